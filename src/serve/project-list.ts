/**
 * The PyPI pages the server renders itself: project lists. Project pages are rendered by
 * src/upstream/pypi-simple.ts from the stored PEP 691 page (see pypi-handler.ts).
 */
import { escapeHtml } from '../upstream/html-scan.js';

export function renderProjectListJson(projects: readonly string[]): string {
  return `${JSON.stringify({ meta: { 'api-version': '1.0' }, projects: projects.map((name) => ({ name })) })}\n`;
}

export function renderProjectListHtml(projects: readonly string[]): string {
  const links = projects.map(
    (name) =>
      `    <a href="${escapeHtml(encodeURIComponent(name))}/">${escapeHtml(name)}</a><br />`,
  );
  return [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    '    <meta name="pypi:repository-version" content="1.0">',
    '    <title>Simple index</title>',
    '  </head>',
    '  <body>',
    ...links,
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}
