/**
 * A Connect runtimes.yaml edited by hand may share parts between images with anchors and
 * merge keys; they used to be lost without a word (an aliased python: read as nothing, a
 * merged image skipped as "no Python or R installation").
 */
import { describe, expect, it } from 'vitest';
import { parseRuntimesYaml } from '../../src/select/runtimes-yaml.js';

describe('runtimes.yaml with anchors, aliases and merge keys', () => {
  it('resolves an aliased installation list and a merged image', () => {
    const text = `name: Kubernetes
x-py: &py
  installations:
    - { path: /opt/python/3.11.9/bin/python3, version: 3.11.9 }
images:
  - &base
    name: ghcr.io/rstudio/content-base:r4.3.3-py3.11.9-jammy
    python: *py
    r:
      installations:
        - { path: /opt/R/4.3.3/bin/R, version: 4.3.3 }
  - <<: *base
    name: ghcr.io/rstudio/content-base:r4.3.3-py3.11.9-noble
  - *base
`;
    const result = parseRuntimesYaml(text, 'runtimes.yaml');
    expect(result.environments.map((e) => [e.name, e.python, e.r, e.distribution])).toEqual([
      ['ghcr.io/rstudio/content-base:r4.3.3-py3.11.9-jammy', '3.11.9', '4.3.3', 'jammy'],
      ['ghcr.io/rstudio/content-base:r4.3.3-py3.11.9-noble', '3.11.9', '4.3.3', 'noble'],
      ['ghcr.io/rstudio/content-base:r4.3.3-py3.11.9-jammy', '3.11.9', '4.3.3', 'jammy'],
    ]);
    expect(result.skipped).toEqual([]);
  });
});
