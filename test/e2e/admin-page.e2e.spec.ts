import { ADMIN_PAGE_CSP } from '../../src/operations/admin-page/admin-page.controller.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The admin page's files over HTTP: public, same-origin only, a strict Content-Security-Policy, and no
 * shadowing of the operator-only admin API next to it. (Its behaviour in a browser: admin-page-chromium.)
 */
describe('admin page files (/admin/)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('serves the page without a token, with a strict CSP and the other security headers', async () => {
    const res = await t.http.get('/admin/').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers).toMatchObject({
      'content-security-policy': ADMIN_PAGE_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    });
    expect(ADMIN_PAGE_CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    const html = res.text;
    expect(html).toContain('<script type="module" src="/admin/assets/admin.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/admin/assets/admin.css" />');
    // Nothing the CSP would block, nothing from elsewhere: no inline script, style or handler, no CDN.
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="/admin/assets/admin.js">']);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
  });

  it('serves the same page at /admin', async () => {
    const [withSlash, without] = await Promise.all([
      t.http.get('/admin/').expect(200),
      t.http.get('/admin').expect(200),
    ]);
    expect(without.text).toBe(withSlash.text);
    expect(without.headers['content-security-policy']).toBe(ADMIN_PAGE_CSP);
    await t.http.get('/admin').set('if-none-match', withSlash.headers.etag!).expect(304);
  });

  it('serves the script, stylesheet and icon with their types, ETags and 304s; nothing else', async () => {
    for (const [file, type] of [
      ['admin.js', 'text/javascript; charset=utf-8'],
      ['admin.css', 'text/css; charset=utf-8'],
      ['favicon.svg', 'image/svg+xml'],
    ] as const) {
      const res = await t.http.get(`/admin/assets/${file}`).expect(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['content-security-policy']).toBe(ADMIN_PAGE_CSP);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const etag = res.headers.etag!;
      expect(etag).toMatch(/^"[\w-]{27}"$/);
      await t.http.get(`/admin/assets/${file}`).set('if-none-match', etag).expect(304);
    }
    const script = (await t.http.get('/admin/assets/admin.js').expect(200)).text;
    // It talks to this origin only.
    expect(script.match(/https?:\/\/[^\s'"`]+/g)).toEqual(['http://www.w3.org/2000/svg']);

    for (const path of [
      '/admin/assets/nope.js',
      '/admin/assets/index.html',
      '/admin/assets/..%2Fpackage.json',
      '/admin/assets/',
    ]) {
      const res = await t.http.get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    const missing = await t.http.get('/admin/assets/nope.js').expect(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('leaves the admin API operator-only: its routes are not shadowed by the page', async () => {
    for (const path of ['/admin/projections', '/admin/projections/orders', '/admin/jobs']) {
      await t.http.get(path).expect(401);
      await t.http.get(path).set('authorization', t.bearer('c-1', 'shopper')).expect(403);
      await t.http.get(path).set('authorization', t.bearer('ops', 'operator')).expect(200);
    }
    await t.http.post('/admin/projections/orders/pause').expect(401);
  });

  it('documents its routes in OpenAPI as public', async () => {
    const doc = (await t.http.get('/docs/json').expect(200)).body;
    for (const path of ['/admin', '/admin/', '/admin/assets/{file}']) {
      expect(doc.paths[path]?.get).toBeDefined();
      expect(doc.paths[path].get.security).toEqual([]);
    }
    expect(doc.paths['/admin/'].get.responses['200'].content['text/html']).toBeDefined();
    expect(doc.paths['/admin/projections'].get.security).toEqual([{ bearer: [] }]);
  });
});
