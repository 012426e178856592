/**
 * The config's `packages:` list of a source, as requirements: PEP 508 specifiers for a pypi
 * source ('requests>=2.31,<3'), R names with an optional constraint for cran sources
 * ('ggplot2', 'ggplot2 (>= 3.4)'). `where` names the config file and key in errors.
 */
import { AirlockError, ConfigError } from '../errors.js';
import { parseDependencyField } from '../upstream/r-dependency.js';
import { InvalidRequirementError, parseRequirement, type Requirement } from '../upstream/pep508.js';
import type { RRequirement } from './r-inputs.js';

export function pythonRequirementsFromList(list: readonly string[], where: string): Requirement[] {
  return list.map((text, i) => {
    try {
      return parseRequirement(text);
    } catch (err) {
      if (!(err instanceof InvalidRequirementError)) throw err;
      throw new ConfigError(`${where}[${i}]: ${err.message}`, {
        hint: 'write a PEP 508 requirement such as "requests>=2.31,<3" (quote it in YAML)',
      });
    }
  });
}

export function rRequirementsFromList(list: readonly string[], where: string): RRequirement[] {
  return list.map((text, i) => {
    let parsed;
    try {
      parsed = parseDependencyField(text, `${where}[${i}]`);
    } catch (err) {
      if (!(err instanceof AirlockError)) throw err;
      throw new ConfigError(err.message, {
        hint: 'write a package name, optionally with "(>= 1.0)"',
      });
    }
    if (parsed.length !== 1) {
      throw new ConfigError(`${where}[${i}]: expected one package, got ${JSON.stringify(text)}`, {
        hint: 'list one package per entry',
      });
    }
    const [dep] = parsed as [RRequirement];
    return { ...dep, origin: where };
  });
}
