/**
 * The canonical-path rule on its own: what it accepts, what it refuses and why, and (over many generated paths)
 * that whatever it accepts is a fixed point of the WHATWG URL parser and holds no dot or empty segment, even
 * for a server that decodes %2F.
 */
import { describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { canonicalPath } from '../../../server/src/web/canonical-path.js';

function refusal(target: string): string {
  try {
    canonicalPath(target);
  } catch (error) {
    expect(error).toBeInstanceOf(GlomsegError);
    expect((error as GlomsegError).code).toBe('INVALID_ARGUMENT');
    return (error as GlomsegError).message;
  }
  throw new Error(`${target} was accepted`);
}

describe('canonicalPath', () => {
  it('accepts the paths the viewer, the plugin and gRPC-Web clients send, without their query', () => {
    for (const [target, path] of [
      ['/', '/'],
      ['/index.html', '/index.html'],
      ['/plugin/glomseg-plugin.js', '/plugin/glomseg-plugin.js'],
      ['/metrics?name[]=x', '/metrics'],
      [
        `/api/slides/${encodeURIComponent('sub/kidney region.tif')}/tiles/0/1/2`,
        '/api/slides/sub%2Fkidney%20region.tif/tiles/0/1/2',
      ],
      [
        `/api/slides/${encodeURIComponent('wsi/CMU-1 (é).svs')}/tiles/0/0/0`,
        '/api/slides/wsi%2FCMU-1%20(%C3%A9).svs/tiles/0/0/0',
      ],
      ['/glomseg.v1.Glomseg/StreamTiles', '/glomseg.v1.Glomseg/StreamTiles'],
      ['/plugin/', '/plugin/'],
      ['/a..b/.c/d.', '/a..b/.c/d.'],
    ]) {
      expect(canonicalPath(target), target).toBe(path);
    }
  });

  it('refuses each kind of non-canonical path, naming the rule it breaks', () => {
    for (const [target, why] of [
      ['', /starting with '\/'/],
      ['*', /starting with '\/'/],
      ['http://127.0.0.1/metrics', /absolute-form/],
      ['/plugin/../metrics', /a '\.\.' segment/],
      ['/plugin/./x', /a '\.' segment/],
      ['/metrics/.', /a '\.' segment/],
      ['/plugin/%2e%2e/metrics', /percent-encodes '\.' \(%2e\)/],
      ['/plugin/.%2E/metrics', /percent-encodes '\.' \(%2E\)/],
      ['/%6detrics', /percent-encodes 'm' \(%6d\)/],
      ['/plugin/..\\metrics', /backslash/],
      ['/plugin/..%5cmetrics', /percent-encodes a backslash/],
      ['/plugin/..%2fmetrics', /encoded '\/' \(%2F\)/],
      ['/api/slides/%2Fetc%2Fpasswd/tiles/0/0/0', /encoded '\/' \(%2F\)/],
      ['/api/slides/a%2F%2Fb/tiles/0/0/0', /encoded '\/' \(%2F\)/],
      ['//metrics', /empty segment/],
      ['/plugin//x.js', /empty segment/],
      ['/a%zz', /malformed percent-encoding \('%zz'\)/],
      ['/a%4', /malformed percent-encoding/],
      ['/a%00b', /control character/],
      ['/a b', /must percent-encode/],
      ['/a"b', /must percent-encode/],
      ['/é', /must percent-encode/],
      ['/a{b}', /must percent-encode/],
    ] as const) {
      expect(refusal(target), target).toMatch(why);
    }
    expect(refusal('/plugin/../metrics')).toMatch(
      /^refused request path '\/plugin\/\.\.\/metrics': it has a '\.\.' segment\./,
    );
    expect(refusal(`/${'a'.repeat(5000)}/..`).length).toBeLessThan(600);
  });

  it('accepts only fixed points of the URL parser, free of dot and empty segments (generated paths)', () => {
    const parts = [
      'a',
      'b.tif',
      '.',
      '..',
      '/',
      '//',
      '%2e',
      '%2E',
      '%2f',
      '%2F',
      '%5c',
      '\\',
      '%41',
      '%20',
      '%',
      '%zz',
      '?',
      ';',
      '@',
      '~',
    ];
    let seed = 26;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      let target = '/';
      for (let n = Math.floor(random() * 8); n > 0; n--) target += parts[Math.floor(random() * parts.length)];
      let path: string;
      try {
        path = canonicalPath(target);
      } catch (error) {
        expect((error as GlomsegError).code, target).toBe('INVALID_ARGUMENT');
        // The named rules cover every case; the URL parser cross-check is only a backstop.
        expect((error as GlomsegError).message, target).not.toMatch(/rewritten by a URL parser/);
        continue;
      }
      accepted++;
      expect(new URL(path, 'http://x').pathname, target).toBe(path);
      const decodedSlashes = path.replace(/%2F/gi, '/');
      for (const [i, segment] of decodedSlashes.slice(1).split('/').entries()) {
        expect(['.', '..'], target).not.toContain(segment);
        if (segment === '') expect(i, target).toBe(decodedSlashes.slice(1).split('/').length - 1);
      }
      expect(path, target).not.toMatch(/\\|%5c|%2e/i);
    }
    // The generator reaches both sides of the rule.
    expect(accepted).toBeGreaterThan(1_000);
    expect(accepted).toBeLessThan(19_000);
  });
});
