import { usageError } from '../errors.js';
import type { OutputFormat } from './output.js';

/**
 * The value of `-o/--output`, read as kubectl reads it: a format name, or a format that carries its template
 * after `=` (`jsonpath={.metadata.name}`, `custom-columns=NAME:.metadata.name`), or one that names a file
 * holding the template (`jsonpath-file=path`, `custom-columns-file=path`), read when the command runs.
 */
interface OutputFlag {
  format: OutputFormat;
  template?: string;
  templateFile?: string;
}

// `table` is the default's name (CLI.md lists it); kubectl has no such value but it costs nothing to accept.
const plain = ['table', 'wide', 'json', 'yaml', 'name'] as const;
const templated = { jsonpath: 'jsonpath', 'jsonpath-as-json': 'jsonpath', 'custom-columns': 'custom-columns' } as const;
const fromFile = { 'jsonpath-file': 'jsonpath', 'custom-columns-file': 'custom-columns' } as const;

/** What completion offers after -o, and help lists. */
export const outputFlagValues = [...plain, 'jsonpath=', 'jsonpath-file=', 'custom-columns=', 'custom-columns-file='];

export const outputFlagHelp = 'output format: table, wide, json, yaml, name, jsonpath=<template>, jsonpath-file=<path>, custom-columns=<spec>, custom-columns-file=<path>';

export function parseOutputFlag(value: string): OutputFlag {
  const named = plain.find((format) => format === value);
  if (named) return { format: named };
  const equals = value.indexOf('=');
  const name = equals < 0 ? value : value.slice(0, equals);
  const rest = equals < 0 ? '' : value.slice(equals + 1);
  if (name in templated) {
    if (rest === '') throw usageError(`-o ${name} needs a template: -o ${name}=...`, name === 'custom-columns' ? 'For example -o custom-columns=NAME:.metadata.name,PHASE:.status.phase' : "For example -o jsonpath='{.items[*].metadata.name}'");
    // jsonpath-as-json is kubectl's variant that prints the results as a JSON array; it is not supported.
    if (name === 'jsonpath-as-json') throw usageError('-o jsonpath-as-json is not supported', 'Use -o json and jq, or -o jsonpath=.');
    return { format: templated[name as keyof typeof templated], template: rest };
  }
  if (name in fromFile) {
    if (rest === '') throw usageError(`-o ${name} needs a file: -o ${name}=<path>`);
    return { format: fromFile[name as keyof typeof fromFile], templateFile: rest };
  }
  throw usageError(`-o ${value} is not an output format`, `Choose one of: ${outputFlagValues.map((flag) => (flag.endsWith('=') ? `${flag}<...>` : flag)).join(', ')}`);
}
