// The errors a person's registration at a second site may have: a typo, given and family name swapped,
// day and month of the birth date swapped, a wrong postal code digit, a missing postal code.
import type { SeededRandom } from './seeded-random.ts';

export interface RegistrationFields {
  given: string;
  family: string;
  birthDate: string;
  sex: string;
  postalCode: string;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function typo(random: SeededRandom, s: string): string {
  if (s.length < 3) return s;
  const i = random.int(1, s.length - 2);
  switch (random.int(0, 3)) {
    case 0:
      return s.slice(0, i) + random.pick([...LETTERS]).toLowerCase() + s.slice(i + 1); // substitution
    case 1:
      return s.slice(0, i) + s.slice(i + 1); // deletion
    case 2:
      return s.slice(0, i) + random.pick([...LETTERS]).toLowerCase() + s.slice(i); // insertion
    default:
      return s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2); // transposition
  }
}

/** One error a registration at a second site may have. */
export function withRegistrationError(random: SeededRandom, f: RegistrationFields): RegistrationFields {
  const out = { ...f };
  switch (random.int(0, 5)) {
    case 0:
      out.family = typo(random, out.family);
      break;
    case 1:
      out.given = typo(random, out.given);
      break;
    case 2:
      [out.given, out.family] = [out.family, out.given];
      break;
    case 3: {
      const [y, m, d] = out.birthDate.split('-');
      if (Number(d) <= 12) out.birthDate = `${y}-${d}-${m}`;
      else out.family = typo(random, out.family);
      break;
    }
    case 4:
      out.postalCode = out.postalCode.slice(0, 4) + String((Number(out.postalCode[4]) + 1) % 10);
      break;
    default:
      out.postalCode = '';
  }
  return out;
}

