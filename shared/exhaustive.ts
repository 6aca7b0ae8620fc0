// Switches over a vocabulary (activations, layer types, block kinds…) end in a compile-time exhaustiveness
// check: either every case returns (a missing one is "not all code paths return a value"), or the default
// names the cases it stands for with nothingFor<…>.

/**
 * The `default:` of a switch whose remaining cases need nothing done: it names those cases as a type, so a new
 * member of the vocabulary that reaches it (and might need something) is a compile error until decided.
 */
export function nothingFor<T>(_value: T): void {}
