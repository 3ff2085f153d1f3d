import { usageError, type CliError } from '../errors.js';

/**
 * Kubernetes' own name rules (k8s.io/apimachinery/pkg/util/validation: IsDNS1123Label, IsDNS1123Subdomain),
 * checked before any request is built. An unset shell variable (`sympozium instances delete "$NAME"`) must be
 * refused here: an empty name dropped from a request path turns "this object" into "the whole collection".
 */

/** What kind of name a value must be: namespaces are DNS labels; every object the CLI names is a subdomain. */
export type NameRule = 'label' | 'subdomain';

const labelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const subdomainPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const maxLength: Record<NameRule, number> = { label: 63, subdomain: 253 };

/** Why `value` is not a valid name under `rule`, in the API server's words; undefined when it is valid. */
function nameProblem(value: string, rule: NameRule): string | undefined {
  if (value === '') return 'must not be empty';
  if (value.length > maxLength[rule]) return `must be no more than ${maxLength[rule]} characters (it has ${value.length})`;
  if (rule === 'label' ? labelPattern.test(value) : subdomainPattern.test(value)) return undefined;
  return rule === 'label'
    ? "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name')"
    : "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')";
}

/**
 * The value itself when it is a valid name, else a usage error (exit 2) that names what was wrong with it:
 * `instance name "" is not valid: must not be empty`. `what` is the thing named, e.g. `instance name` or `-n`.
 */
export function requireName(value: string, rule: NameRule, what: string, more: { hint?: string; from?: string } = {}): string {
  const problem = nameProblem(value, rule);
  if (problem) throw invalidName(value, problem, more.from ? `${what} ${JSON.stringify(value)} (${more.from})` : what, more.hint, more.from !== undefined);
  return value;
}

/**
 * The API server's rule for any name in a path (IsValidPathSegmentName): not empty, `.` or `..`, no `/` or
 * `%`. Looser than the DNS rules on purpose: RBAC objects are called `system:controller:…`, and apply must
 * reach them; what a command names is checked against its kind's stricter rule at the command line.
 */
export function requirePathSegment(value: string, what: string): string {
  let problem: string | undefined;
  if (value === '') problem = 'must not be empty';
  else if (value === '.' || value === '..') problem = 'may not be "." or ".."';
  else if (/[/%]/.test(value)) problem = 'may not contain "/" or "%"';
  if (problem) throw invalidName(value, problem, what);
  return value;
}

function invalidName(value: string, problem: string, what: string, hint?: string, shownAlready = false): CliError {
  // JSON.stringify shows an empty or blank value as "" and makes control characters visible.
  const shown = shownAlready ? '' : ` ${value.length > 80 ? `${JSON.stringify(value.slice(0, 60))}…` : JSON.stringify(value)}`;
  return usageError(`${what}${shown} is not valid: ${problem}`, hint ?? (value === '' ? 'Is a shell variable empty? Pass the name itself.' : undefined));
}
