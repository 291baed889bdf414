// The search-parameter type modules by type name.
import type { SearchParamType } from '../parameters.ts';
import type { SearchParamTypeModule } from './param-type.ts';
import { token } from './token.ts';
import { string } from './string.ts';
import { uri } from './uri.ts';
import { reference } from './reference.ts';
import { date } from './date.ts';
import { number } from './number.ts';
import { quantity } from './quantity.ts';

const MODULES: Readonly<Record<SearchParamType, SearchParamTypeModule>> = { token, string, uri, reference, date, number, quantity };

export function paramTypeModule(type: SearchParamType): SearchParamTypeModule {
  return MODULES[type];
}
