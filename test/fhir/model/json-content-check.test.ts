// parseFhirJson's content check (depth, forbidden characters, numbers out of range): what it refuses
// and where it says the first problem is. The check first looks for any problem without paths and
// only then names one; these pin that nothing is missed at any depth or position and that the named
// location is the first problem of the single walk the check had before (kept below as the oracle).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FhirError } from '../../../src/common/errors.ts';
import { parseFhirJson } from '../../../src/fhir/model/json-parse.ts';
import { forbiddenCharacter, FORBIDDEN_CHARACTER_RULE, jsonTextMayHoldForbidden } from '../../../src/fhir/model/fhir-characters.ts';
import { MAX_JSON_DEPTH } from '../../../src/fhir/model/nesting-limits.ts';

type Json = Record<string, unknown>;

/** The check as one walk that names the first problem it meets: the behaviour to keep. */
function oracle(root: Json, checkCharacters: boolean): { diagnostics: string; at: string } | undefined {
  const found = firstProblem(root, checkCharacters);
  return found && { diagnostics: `${found.diagnostics} at ${found.at}`, at: found.at };
}

function firstProblem(root: Json, checkCharacters: boolean): { diagnostics: string; at: string } | undefined {
  const stack: { value: Json | unknown[]; path: string; depth: number }[] = [{ value: root, path: typeof root.resourceType === 'string' ? root.resourceType : '$', depth: 1 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (depth > MAX_JSON_DEPTH) return { diagnostics: `The JSON is nested deeper than ${MAX_JSON_DEPTH} levels`, at: path.length > 200 ? `${path.slice(0, 200)}...` : path };
    const keys = Array.isArray(value) ? undefined : Object.keys(value);
    const n = keys ? keys.length : (value as unknown[]).length;
    for (let i = 0; i < n; i++) {
      const key = keys?.[i];
      const child = keys ? (value as Json)[key!] : (value as unknown[])[i];
      const here = key === undefined ? `${path}[${i}]` : `${path}.${key}`;
      if (key !== undefined && checkCharacters && forbiddenCharacter(key)) return { diagnostics: `The property name contains ${forbiddenCharacter(key)} (${FORBIDDEN_CHARACTER_RULE})`, at: here };
      if (typeof child === 'string') {
        if (checkCharacters && forbiddenCharacter(child)) return { diagnostics: `The value contains ${forbiddenCharacter(child)} (${FORBIDDEN_CHARACTER_RULE})`, at: here };
      } else if (typeof child === 'number') {
        if (!Number.isFinite(child)) return { diagnostics: 'The number is out of range', at: here };
      } else if (typeof child === 'object' && child !== null) stack.push({ value: child as Json, path: here, depth: depth + 1 });
    }
  }
  return undefined;
}

/** What parseFhirJson says about a text: its first issue's diagnostics and location, or undefined when it takes it. */
function outcome(text: string): { diagnostics: string; at: string } | undefined {
  try {
    parseFhirJson(text);
    return undefined;
  } catch (e) {
    assert.ok(e instanceof FhirError && e.status === 400, String(e));
    const issue = e.outcome.issue![0]!;
    return { diagnostics: issue.diagnostics!, at: issue.expression![0]! };
  }
}

function nested(levels: number, inner: string): string {
  return `{"resourceType":"Patient","extension":${'[{"extension":'.repeat(levels)}${inner}${'}]'.repeat(levels)}}`;
}

const CORPUS: string[] = [
  '{"resourceType":"Patient","active":true}',
  '{"resourceType":"Patient","multipleBirthInteger":1e999}',
  '{"resourceType":"Patient","multipleBirthInteger":-1e999}',
  '{"resourceType":"Patient","a":[1,2,[3,[4,1e400]]]}',
  '{"resourceType":"Patient","a":[{"b":{"c":[{"d":1e309}]}}],"e":1e309}',
  '{"resourceType":"Patient","name":[{"given":["a\\u0007b"]}]}',
  '{"resourceType":"Patient","name":[{"given":["ok","\\ud800"]}]}',
  '{"resourceType":"Patient","name":[{"gi\\u0001ven":["x"]}]}',
  '{"resourceType":"Patient","x\\u0002":{"y":"\\u0003"}}',
  '{"resourceType":"Patient","text":"\\uFFFE","other":"\uFFFF"}',
  '{"resourceType":"Patient","a":"\\u00e9\\ud83d\\ude00 fine"}',
  '{"resourceType":"Patient","a":[1e999,"\\u0007"],"b":{"c":"\\u0008"}}',
  nested(MAX_JSON_DEPTH / 2 - 1, '{"url":"u"}'),
  nested(MAX_JSON_DEPTH / 2, '{"url":"u"}'),
  nested(MAX_JSON_DEPTH / 2, '{}'),
  nested(MAX_JSON_DEPTH / 2 - 1, '{"url":"\\u0007"}'),
  nested(MAX_JSON_DEPTH / 2 - 1, '{"url":"u","valueDecimal":1e999}'),
  nested(MAX_JSON_DEPTH, '{"url":"u"}'),
  `{"resourceType":"Patient","deep":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`,
  `{"resourceType":"Patient","deep":${'['.repeat(MAX_JSON_DEPTH - 1)}1e999${']'.repeat(MAX_JSON_DEPTH - 1)}}`,
  `{"resourceType":"Patient","deep":${'['.repeat(MAX_JSON_DEPTH - 2)}[]${']'.repeat(MAX_JSON_DEPTH - 2)}}`,
  '{"resourceType":"Patient","n":[null,true,false,0,-0,1.5e308,"s",{}]}',
  '{"n":1e999,"resourceType":"Patient"}',
];

test('the content check refuses, at the same first location, exactly what one walk naming each problem refuses', () => {
  let refused = 0;
  for (const text of CORPUS) {
    const parsed = JSON.parse(text) as Json;
    const expected = oracle(parsed, jsonTextMayHoldForbidden(text));
    assert.deepEqual(outcome(text), expected, text.slice(0, 120));
    if (expected) refused++;
  }
  assert.ok(refused >= 15, `the corpus refuses ${refused} texts`);
});

test('every kind of problem is refused wherever it is, alone in the resource', () => {
  // One problem per text, at each position of a resource with objects and arrays at several depths.
  const problems = ['1e999', '"\\u0007"', '"\\udc00"'];
  const places = (p: string) => [
    `{"resourceType":"Patient","x":${p}}`,
    `{"resourceType":"Patient","a":{"b":${p}},"c":"d"}`,
    `{"resourceType":"Patient","a":[0,[1,${p}]],"c":[{"d":"e"}]}`,
    `{"resourceType":"Patient","a":[{"b":[{"c":{"d":${p}}}]}]}`,
  ];
  for (const p of problems) {
    for (const text of places(p)) {
      const got = outcome(text);
      assert.ok(got, `not refused: ${text}`);
      assert.deepEqual(got, oracle(JSON.parse(text) as Json, true), text);
    }
  }
  assert.deepEqual(outcome('{"resourceType":"Patient","a":[{"b\\u0007":1}]}'), {
    diagnostics: `The property name contains the character U+0007 (${FORBIDDEN_CHARACTER_RULE}) at Patient.a[0].b\u0007`,
    at: 'Patient.a[0].b\u0007',
  });
  assert.deepEqual(outcome('{"resourceType":"Patient","a":[{"b":[1e999]}]}'), { diagnostics: 'The number is out of range at Patient.a[0].b[0]', at: 'Patient.a[0].b[0]' });
});
