import { describe, expect, it } from 'vitest';
import { parseArchiveListing } from '../../src/upstream/cran-archive.js';

const PAGE = 'https://cran.example/src/contrib/Archive/ggplot2/';

describe('CRAN Archive directory pages', () => {
  it('reads the package files of an Apache autoindex page, oldest first', () => {
    const html = `<html><head><title>Index of /src/contrib/Archive/ggplot2</title></head><body>
<table><tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th></tr>
<tr><td><a href="/src/contrib/Archive/">Parent Directory</a></td></tr>
<tr><td><a href="ggplot2_3.4.0.tar.gz">ggplot2_3.4.0.tar.gz</a></td><td>2022-11-04 11:40</td></tr>
<tr><td><a href="ggplot2_0.9.3.1.tar.gz">ggplot2_0.9.3.1.tar.gz</a></td></tr>
<tr><td><a HREF='ggplot2_3.10.0.tar.gz'>ggplot2_3.10.0.tar.gz</a></td></tr>
<tr><td><a href="https://cran.example/src/contrib/Archive/ggplot2/ggplot2_1.0.0.tar.gz">abs</a></td></tr>
</table></body></html>`;
    expect(parseArchiveListing(html, 'ggplot2', PAGE).map((f) => [f.version, f.url])).toEqual([
      ['0.9.3.1', `${PAGE}ggplot2_0.9.3.1.tar.gz`],
      ['1.0.0', `${PAGE}ggplot2_1.0.0.tar.gz`],
      ['3.4.0', `${PAGE}ggplot2_3.4.0.tar.gz`],
      ['3.10.0', `${PAGE}ggplot2_3.10.0.tar.gz`],
    ]);
  });

  it('ignores links that leave the directory, other packages and non-versions', () => {
    const html = [
      '<a href="../dplyr/dplyr_1.0.0.tar.gz">x</a>',
      '<a href="https://evil.example/src/contrib/Archive/ggplot2/ggplot2_9.9.tar.gz">x</a>',
      '<a href="sub/ggplot2_1.0.tar.gz">x</a>',
      '<a href="ggplot2_latest.tar.gz">x</a>',
      '<a href="ggplot2.extra_1.0.tar.gz">x</a>',
      '<a href="ggplot2_1.0.zip">x</a>',
    ].join('\n');
    expect(parseArchiveListing(html, 'ggplot2', PAGE)).toEqual([]);
  });
});
