import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import {
  PYPI_HTML_V1,
  PYPI_JSON,
  SIMPLE_ACCEPT,
  chooseSimpleMediaType,
  classifyFilename,
  parseProjectList,
  parseProjectPage,
  renderProjectPageHtml,
  renderProjectPageJson,
  type PypiFile,
} from '../../src/upstream/pypi-simple.js';

const hex = (seed: string) => createHash('sha256').update(seed).digest('hex');
const FILES = 'https://files.pythonhosted.org/packages';
const PAGE = 'https://pypi.org/simple/requests/';

// Shaped like pypi.org's PEP 503 page: attributes escaped, metadata under both names.
const PYPI_HTML = `<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.1">
    <title>Links for requests</title>
  </head>
  <body>
    <h1>Links for requests</h1>
    <a href="${FILES}/70/8e/requests-2.31.0-py3-none-any.whl#sha256=${hex('whl')}" data-requires-python="&gt;=3.7" data-dist-info-metadata="sha256=${hex('meta')}" data-core-metadata="sha256=${hex('meta')}">requests-2.31.0-py3-none-any.whl</a><br />
    <a href="${FILES}/9d/be/requests-2.31.0.tar.gz#sha256=${hex('sdist')}" data-requires-python="&gt;=3.7" >requests-2.31.0.tar.gz</a><br />
    <a href="${FILES}/aa/bb/requests-2.32.0-py3-none-any.whl#sha256=${hex('yanked')}" data-requires-python="&gt;=3.8" data-yanked="Yanked due to conflicts with CVE-2024-35195 mitigation" data-core-metadata="true">requests-2.32.0-py3-none-any.whl</a><br />
    <a href="${FILES}/cc/dd/requests-0.2.0.tar.gz#md5=${'ab'.repeat(16)}" data-yanked>requests-0.2.0.tar.gz</a><br />
  </body>
</html>
<!--SERIAL 24000000-->
`;

function thrown(fn: () => unknown): IntegrityError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(IntegrityError);
    return err as IntegrityError;
  }
  throw new Error('expected an IntegrityError');
}

describe('parseProjectPage (HTML)', () => {
  it('reads a pypi.org page: hashes, requires-python, yanked and core metadata', () => {
    const page = parseProjectPage(PYPI_HTML, 'text/html; charset=utf-8', PAGE);
    expect(page.name).toBe('requests');
    expect(page.meta.apiVersion).toBe('1.1');
    expect(page.files).toHaveLength(4);
    const [wheel, sdist, yanked, old] = page.files;
    expect(wheel).toEqual({
      filename: 'requests-2.31.0-py3-none-any.whl',
      url: `${FILES}/70/8e/requests-2.31.0-py3-none-any.whl`,
      sha256: hex('whl'),
      hashes: { sha256: hex('whl') },
      requiresPython: '>=3.7',
      yanked: false,
      coreMetadata: { sha256: hex('meta') },
    });
    expect(sdist).toMatchObject({ sha256: hex('sdist'), coreMetadata: false, yanked: false });
    expect(yanked!.yanked).toEqual({
      reason: 'Yanked due to conflicts with CVE-2024-35195 mitigation',
    });
    expect(yanked!.coreMetadata).toEqual({});
    expect(old).toMatchObject({ yanked: { reason: '' }, hashes: { md5: 'ab'.repeat(16) } });
    expect(old!.sha256).toBeUndefined();
  });

  it('resolves relative, path-absolute and absolute links and drops the fragment', () => {
    const html = `<html><body>
      <a href="../../packages/ab/cd/foo-1.0.tar.gz#sha256=${hex('a')}">foo-1.0.tar.gz</a>
      <a href="/files/foo-1.1.zip">foo-1.1.zip</a>
      <a href="foo-1.2.tar.gz#egg=foo">foo-1.2.tar.gz</a>
      <a href="https://other.example/foo-1.3.tar.gz">foo-1.3.tar.gz</a>
    </body></html>`;
    const page = parseProjectPage(html, 'text/html', 'https://mirror.example/pypi/simple/foo/');
    expect(page.files.map((f) => f.url)).toEqual([
      'https://mirror.example/pypi/packages/ab/cd/foo-1.0.tar.gz',
      'https://mirror.example/files/foo-1.1.zip',
      'https://mirror.example/pypi/simple/foo/foo-1.2.tar.gz',
      'https://other.example/foo-1.3.tar.gz',
    ]);
    expect(page.files[2]!.hashes).toEqual({});
  });

  it('resolves links against a <base href>', () => {
    const html = `<head><base href="https://cdn.example/dist/"></head>
      <a href="foo-1.0.tar.gz">foo-1.0.tar.gz</a><a href="../up/foo-2.0.tar.gz">foo-2.0.tar.gz</a>`;
    const page = parseProjectPage(html, 'text/html', 'https://mirror.example/simple/foo/');
    expect(page.files.map((f) => f.url)).toEqual([
      'https://cdn.example/dist/foo-1.0.tar.gz',
      'https://cdn.example/up/foo-2.0.tar.gz',
    ]);
  });

  it('reads attributes in any order and quoting, decodes entities, skips comments and scripts', () => {
    const html = `<HTML><BODY>
      <!-- <a href="hidden-1.0.tar.gz">hidden-1.0.tar.gz</a> -->
      <script>document.write('<a href="x-9.tar.gz">x-9.tar.gz</a>')</script>
      <A data-requires-python='&lt;4,&gt;=3.8' HREF=Foo_Bar-1.0.tar.gz?a=1&amp;b=2#SHA256=${hex('b').toUpperCase()}>
        Foo_Bar-1.0.tar.gz</A>
      <a data-yanked="bad &quot;build&quot; &#39;x&#39; &#x263A;" href="foo_bar-2.0.tar.gz" data-dist-info-metadata=true>foo_bar-2.0.tar.gz</a>
      <a name="no-href">not a link</a>
      <a href="foo_bar-3.0.tar.gz"><span>foo_bar-3.0.tar.gz</span></a>
    </BODY></HTML>`;
    const page = parseProjectPage(
      html,
      'application/vnd.pypi.simple.v1+html',
      'https://m.example/simple/Foo.Bar/',
    );
    expect(page.name).toBe('foo-bar');
    expect(page.files.map((f) => f.filename)).toEqual([
      'Foo_Bar-1.0.tar.gz',
      'foo_bar-2.0.tar.gz',
      'foo_bar-3.0.tar.gz',
    ]);
    const [first, second] = page.files;
    expect(first).toMatchObject({
      url: 'https://m.example/simple/Foo.Bar/Foo_Bar-1.0.tar.gz?a=1&b=2',
      sha256: hex('b'),
      requiresPython: '<4,>=3.8',
    });
    expect(second!.yanked).toEqual({ reason: `bad "build" 'x' \u263a` });
    expect(second!.coreMetadata).toEqual({});
  });

  it('sniffs the format when the content type says nothing useful', () => {
    const html = parseProjectPage(PYPI_HTML, 'application/octet-stream', PAGE);
    expect(html.files).toHaveLength(4);
    const json = parseProjectPage(
      ' {"meta":{"api-version":"1.0"},"name":"a","files":[]}',
      '',
      'https://x/simple/a/',
    );
    expect(json.name).toBe('a');
  });

  it('rejects file names that would escape the project directory', () => {
    const html = `<a href="https://x.example/evil.tar.gz">../../etc/evil-1.0.tar.gz</a>`;
    const error = thrown(() => parseProjectPage(html, 'text/html', PAGE));
    expect(error.code).toBe('EINDEX');
    expect(error.message).toContain(PAGE);
    expect(error.message).toContain('not a plain file name');
  });

  it('rejects a sha256 fragment of the wrong length and a newer major api version', () => {
    expect(
      thrown(() =>
        parseProjectPage('<a href="a-1.0.tar.gz#sha256=abc">a-1.0.tar.gz</a>', 'text/html', PAGE),
      ).message,
    ).toMatch(/sha256 digest "abc" is not hex/);
    const v2 =
      '<meta name="pypi:repository-version" content="2.0"><a href="a-1.0.tar.gz">a-1.0.tar.gz</a>';
    expect(thrown(() => parseProjectPage(v2, 'text/html', PAGE)).message).toMatch(
      /api-version 2.0 is not supported/,
    );
  });
});

// Shaped like pypi.org's PEP 691 answer, including the key PyPI emitted by mistake (PEP 714).
const PYPI_JSON_PAGE = JSON.stringify({
  meta: { 'api-version': '1.1', _last_serial: 24000000 },
  name: 'Typing_Extensions',
  versions: ['4.8.0', '4.9.0'],
  files: [
    {
      filename: 'typing_extensions-4.9.0-py3-none-any.whl',
      url: '../../packages/b7/f4/typing_extensions-4.9.0-py3-none-any.whl',
      hashes: { sha256: hex('te-whl').toUpperCase() },
      'requires-python': '>=3.8',
      yanked: false,
      size: 32809,
      'upload-time': '2023-12-10T20:03:09.253146Z',
      'core-metadata': { sha256: hex('te-meta') },
      'data-dist-info-metadata': { sha256: hex('te-meta') },
    },
    {
      filename: 'typing_extensions-4.8.0.tar.gz',
      url: `${FILES}/1f/7a/typing_extensions-4.8.0.tar.gz`,
      hashes: { sha256: hex('te-sdist'), blake2b_256: 'ab'.repeat(32) },
      'requires-python': null,
      yanked: 'broken build',
      size: 71456,
      'upload-time': '2023-09-18T04:01:07.000000Z',
      'data-dist-info-metadata': true,
    },
  ],
});

describe('parseProjectPage (JSON)', () => {
  it('reads a PEP 691 page with PEP 700 fields, resolving relative URLs', () => {
    const page = parseProjectPage(
      PYPI_JSON_PAGE,
      PYPI_JSON,
      'https://pypi.org/simple/typing-extensions/',
    );
    expect(page.name).toBe('typing-extensions');
    expect(page.meta).toEqual({ apiVersion: '1.1' });
    expect(page.versions).toEqual(['4.8.0', '4.9.0']);
    const [wheel, sdist] = page.files;
    expect(wheel).toEqual({
      filename: 'typing_extensions-4.9.0-py3-none-any.whl',
      url: 'https://pypi.org/packages/b7/f4/typing_extensions-4.9.0-py3-none-any.whl',
      sha256: hex('te-whl'),
      hashes: { sha256: hex('te-whl') },
      requiresPython: '>=3.8',
      yanked: false,
      size: 32809,
      uploadTime: '2023-12-10T20:03:09.253146Z',
      coreMetadata: { sha256: hex('te-meta') },
    });
    expect(sdist).toMatchObject({
      yanked: { reason: 'broken build' },
      coreMetadata: {},
      size: 71456,
    });
    expect(sdist!.requiresPython).toBeUndefined();
    expect(sdist!.hashes.blake2b_256).toBe('ab'.repeat(32));
  });

  it('rejects malformed JSON pages, naming the page URL and the file', () => {
    const url = 'https://pypi.example/simple/x/';
    const cases: Array<[string, RegExp]> = [
      ['{"files": [', /does not parse/],
      ['[]', /is not an object/],
      ['{"name": "x"}', /no "files" array/],
      [
        '{"files": [{"filename": "x-1.0.tar.gz", "url": "x-1.0.tar.gz"}]}',
        /files\[0\] \(x-1.0.tar.gz\): "hashes" is not an object/,
      ],
      ['{"files": [{"url": "x"}]}', /files\[0\] has no "filename" string/],
      ['{"files": [{"filename": "x-1.0.tar.gz", "hashes": {}}]}', /no "url" string/],
      [
        '{"files": [{"filename": "x-1.0.tar.gz", "url": "u", "hashes": {}, "size": -1}]}',
        /"size" -1 is not a byte count/,
      ],
      [
        '{"files": [{"filename": "x-1.0.tar.gz", "url": "u", "hashes": {}, "yanked": 1}]}',
        /"yanked" is neither/,
      ],
      ['{"meta": {"api-version": "2.0"}, "files": []}', /api-version 2.0 is not supported/],
    ];
    for (const [body, message] of cases) {
      const error = thrown(() => parseProjectPage(body, 'application/json', url));
      expect(error.code, body).toBe('EINDEX');
      expect(error.message, body).toContain(url);
      expect(error.message, body).toMatch(message);
      expect(error.hint).toBeTruthy();
    }
    expect(
      thrown(() => parseProjectPage('{}', 'application/vnd.pypi.simple.v2+json', url)).message,
    ).toMatch(/unsupported API version/);
  });
});

describe('parseProjectList', () => {
  it('reads normalized names from the HTML and JSON lists', () => {
    const html =
      '<html><body><a href="/simple/frob/">frob</a>\n<a href="/simple/project-name/">PROJECT_name</a><a href="/simple/zope-interface/">zope.interface</a></body></html>';
    expect(parseProjectList(html, 'text/html', 'https://pypi.org/simple/')).toEqual([
      'frob',
      'project-name',
      'zope-interface',
    ]);
    const json = JSON.stringify({
      meta: { 'api-version': '1.0' },
      projects: [{ name: 'Frob' }, { name: 'frob' }, { name: 'A.B_c' }],
    });
    expect(parseProjectList(json, PYPI_JSON, 'https://pypi.org/simple/')).toEqual([
      'frob',
      'a-b-c',
    ]);
    expect(
      thrown(() => parseProjectList('{"projects": [{}]}', PYPI_JSON, 'https://pypi.org/simple/'))
        .message,
    ).toMatch(/projects\[0\] has no "name"/);
  });
});

describe('classifyFilename', () => {
  it('reads wheel names with and without a build tag and compressed tag sets', () => {
    expect(
      classifyFilename('numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'),
    ).toEqual({
      kind: 'wheel',
      name: 'numpy',
      version: '1.26.4',
      tags: {
        python: ['cp311'],
        abi: ['cp311'],
        platform: ['manylinux_2_17_x86_64', 'manylinux2014_x86_64'],
      },
    });
    expect(classifyFilename('six-1.16.0-1-py2.py3-none-any.whl')).toMatchObject({
      build: '1',
      tags: { python: ['py2', 'py3'] },
    });
    expect(classifyFilename('bad-1.0-x-py3-none-any.whl')).toEqual({ kind: 'other' });
    expect(classifyFilename('bad-py3-none-any.whl')).toEqual({ kind: 'other' });
  });

  it('splits sdist names at the last dash before a digit, or where the project says', () => {
    expect(classifyFilename('foo-bar-1.0.tar.gz')).toEqual({
      kind: 'sdist',
      name: 'foo-bar',
      version: '1.0',
      ext: '.tar.gz',
    });
    expect(classifyFilename('Django-5.0.1.tar.gz')).toMatchObject({
      name: 'Django',
      version: '5.0.1',
    });
    expect(classifyFilename('pywin32-ctypes-0.2.0.zip')).toMatchObject({
      name: 'pywin32-ctypes',
      ext: '.zip',
    });
    expect(classifyFilename('pkg-2-1.0.tar.bz2', 'pkg')).toMatchObject({
      name: 'pkg',
      version: '2-1.0',
    });
    expect(classifyFilename('pkg-2-1.0.tar.bz2')).toMatchObject({ name: 'pkg-2', version: '1.0' });
    expect(classifyFilename('foo.tar.gz')).toEqual({ kind: 'other' });
    expect(classifyFilename('foo-1.0.win32.exe')).toEqual({ kind: 'other' });
    expect(classifyFilename('foo-1.0-py2.7.egg')).toEqual({ kind: 'other' });
  });
});

describe('rendering', () => {
  const withSize = (files: PypiFile[]) => files.map((f, i) => ({ ...f, size: 1000 + i }));

  it('round-trips HTML → JSON → parse with the same files', () => {
    const page = parseProjectPage(PYPI_HTML, 'text/html', PAGE);
    const again = parseProjectPage(renderProjectPageJson(page), PYPI_JSON, PAGE);
    expect(again.name).toBe('requests');
    expect(again.files).toEqual(page.files);
  });

  it('round-trips JSON → HTML → parse, keeping everything HTML can carry', () => {
    const page = parseProjectPage(
      PYPI_JSON_PAGE,
      PYPI_JSON,
      'https://pypi.org/simple/typing-extensions/',
    );
    const html = renderProjectPageHtml(page);
    const again = parseProjectPage(
      html,
      PYPI_HTML_V1,
      'https://pypi.org/simple/typing-extensions/',
    );
    const htmlCarries = (f: PypiFile) => {
      const { size: _size, uploadTime: _time, hashes, ...rest } = f;
      return { ...rest, hashes: f.sha256 ? { sha256: f.sha256 } : hashes };
    };
    expect(again.files).toEqual(page.files.map(htmlCarries));
    expect(html).toContain('data-requires-python="&gt;=3.8"');
    expect(html).toContain(
      `data-dist-info-metadata="sha256=${hex('te-meta')}" data-core-metadata="sha256=${hex('te-meta')}"`,
    );
    expect(html).toContain('data-yanked="broken build"');
  });

  it('round-trips JSON → JSON exactly and emits PEP 700 versions when every file has a size', () => {
    const page = parseProjectPage(
      PYPI_JSON_PAGE,
      PYPI_JSON,
      'https://pypi.org/simple/typing-extensions/',
    );
    const rendered = renderProjectPageJson(page);
    const again = parseProjectPage(
      rendered,
      PYPI_JSON,
      'https://pypi.org/simple/typing-extensions/',
    );
    expect(again.files).toEqual(page.files);
    expect(again.meta.apiVersion).toBe('1.1');
    expect(again.versions).toEqual(['4.9.0', '4.8.0']);
    // PEP 714: pip 22.3-23.1 crash on a JSON dist-info-metadata key, so it is never emitted.
    expect(rendered).not.toContain('dist-info-metadata');
    const unsized = parseProjectPage(
      renderProjectPageJson({ name: 'x', files: page.files.map(({ size: _s, ...f }) => f) }),
      PYPI_JSON,
      PAGE,
    );
    expect(unsized.meta.apiVersion).toBe('1.0');
    expect(unsized.versions).toBeUndefined();
  });

  it('renders caller-chosen bare file names that resolve beside the page', () => {
    const page = parseProjectPage(PYPI_HTML, 'text/html', PAGE);
    const local = {
      name: page.name,
      files: withSize(page.files.map((f) => ({ ...f, url: f.filename }))),
    };
    const served = 'http://127.0.0.1:8080/pypi/2024-05-01/simple/requests/';
    for (const [body, type] of [
      [renderProjectPageJson(local), PYPI_JSON],
      [renderProjectPageHtml(local), 'text/html'],
    ] as const) {
      const again = parseProjectPage(body, type, served);
      expect(again.files.map((f) => f.url)).toEqual(page.files.map((f) => served + f.filename));
    }
  });

  it('escapes names and reasons in HTML attributes', () => {
    const file: PypiFile = {
      filename: 'a-1.0.tar.gz',
      url: 'https://x.example/a-1.0.tar.gz?x="><script>',
      hashes: {},
      yanked: { reason: '<b>"evil"</b> & \'co\'' },
      coreMetadata: false,
    };
    const html = renderProjectPageHtml({ name: 'a', files: [file] });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    const again = parseProjectPage(html, 'text/html', 'https://x.example/simple/a/');
    expect(again.files[0]!.yanked).toEqual(file.yanked);
    expect(again.files[0]!.url).toBe('https://x.example/a-1.0.tar.gz?x=%22%3E%3Cscript%3E');
  });
});

describe('content negotiation', () => {
  it('answers JSON to our own Accept header and to pip, HTML to everyone else', () => {
    expect(chooseSimpleMediaType(SIMPLE_ACCEPT)).toBe(PYPI_JSON);
    const pip =
      'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
    expect(chooseSimpleMediaType(pip)).toBe(PYPI_JSON);
    expect(chooseSimpleMediaType('application/vnd.pypi.simple.latest+json')).toBe(PYPI_JSON);
    expect(chooseSimpleMediaType('text/html')).toBe('text/html');
    expect(chooseSimpleMediaType('*/*')).toBe('text/html');
    expect(chooseSimpleMediaType(undefined)).toBe('text/html');
    expect(chooseSimpleMediaType('application/vnd.pypi.simple.v1+html')).toBe(PYPI_HTML_V1);
    expect(chooseSimpleMediaType('image/png')).toBeUndefined();
    expect(chooseSimpleMediaType('text/html;q=0, */*;q=0.5')).toBe(PYPI_HTML_V1);
  });
});

describe('pip reads the rendered pages', () => {
  const file = (filename: string, extra: Partial<PypiFile> = {}): PypiFile => ({
    filename,
    url: filename,
    sha256: hex(filename),
    hashes: { sha256: hex(filename) },
    yanked: false,
    coreMetadata: false,
    ...extra,
  });
  const page = {
    name: 'demo-pkg',
    files: [
      file('demo_pkg-1.0-py3-none-any.whl', { requiresPython: '>=3' }),
      file('demo_pkg-1.5-py3-none-any.whl', { yanked: { reason: 'broken' } }),
      file('demo_pkg-2.0.tar.gz', { coreMetadata: { sha256: hex('m') } }),
      file('demo_pkg-2.0-py3-none-any.whl', { coreMetadata: {} }),
      file('demo_pkg-3.0-py3-none-any.whl', { requiresPython: '>=4' }),
    ],
  };
  let server: Server;
  let format: 'json' | 'html' = 'json';
  let lastAccept = '';
  let base = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      lastAccept = req.headers.accept ?? '';
      if (req.url !== '/simple/demo-pkg/') {
        res.writeHead(404).end();
        return;
      }
      const body = format === 'json' ? renderProjectPageJson(page) : renderProjectPageHtml(page);
      res.writeHead(200, { 'content-type': format === 'json' ? PYPI_JSON : 'text/html' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const pipVersions = async () => {
    const { stdout } = await promisify(execFile)(
      'python3',
      [
        '-m',
        'pip',
        'index',
        'versions',
        'demo-pkg',
        '--index-url',
        base,
        '--no-cache-dir',
        '--retries',
        '0',
        '--disable-pip-version-check',
      ],
      { env: { ...process.env, PIP_CONFIG_FILE: '/dev/null' } },
    );
    return stdout;
  };

  for (const kind of ['json', 'html'] as const) {
    it(`skips yanked and Requires-Python-incompatible files in ${kind}`, async () => {
      format = kind;
      const stdout = await pipVersions();
      expect(stdout).toContain('demo-pkg (2.0)');
      expect(stdout).toMatch(/Available versions: 2\.0, 1\.0\s*$/m);
      expect(chooseSimpleMediaType(lastAccept)).toBe(PYPI_JSON);
    });
  }
});
