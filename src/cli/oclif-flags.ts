/**
 * Builds oclif flag definitions from src/cli/flag-spec.ts, so the command classes and the
 * fast path read one table. The types follow the spec: an integer or string flag with a
 * default parses to `number` / `string`, one without to `… | undefined`.
 */
import { Flags, type Interfaces } from '@oclif/core';
import type { FlagSpec, FlagSpecs, FlagValue } from './flag-spec.js';

type OclifFlagOf<S extends FlagSpec> = S extends { kind: 'boolean' } ? Interfaces.BooleanFlag<boolean> : Interfaces.OptionFlag<FlagValue<S>>;

export type OclifFlagsOf<T extends FlagSpecs> = { [K in keyof T]: OclifFlagOf<T[K]> };

function oclifFlag(spec: FlagSpec): unknown {
  const common = { description: spec.description, ...(spec.helpGroup === undefined ? {} : { helpGroup: spec.helpGroup }), ...(spec.helpValue === undefined ? {} : { helpValue: `<${spec.helpValue}>` }) };
  switch (spec.kind) {
    case 'boolean':
      return Flags.boolean({ ...common, default: spec.default });
    case 'integer':
      return Flags.integer({ ...common, min: spec.min, max: spec.max, ...(spec.default === undefined ? {} : { default: spec.default }) });
    case 'string':
      return Flags.string({ ...common, ...(spec.default === undefined ? {} : { default: spec.default }) });
  }
}

export function oclifFlags<T extends FlagSpecs>(specs: T): OclifFlagsOf<T> {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, oclifFlag(spec)])) as OclifFlagsOf<T>;
}
