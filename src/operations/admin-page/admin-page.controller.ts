import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import {
  ApiNotFoundResponse,
  ApiNotModifiedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../auth/roles.decorator.js';
import { HttpProblem } from '../../shared/http/http-errors.js';
import { PROBLEM_CONTENT_TYPE } from '../../shared/http/problem.js';
import { AdminPageAssets, type Asset } from './admin-page.assets.js';

/**
 * The page loads its script and stylesheet from this origin and talks to this origin only; nothing inline,
 * no frames, no forms posted anywhere, no plugins. Sent with every file of the page.
 */
export const ADMIN_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': ADMIN_PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Revalidated on every load (ETag): a new version of the page is picked up at once.
  'cache-control': 'no-cache',
};

const PROBLEM_RESPONSE = {
  [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } },
};

/**
 * The admin page (`/admin/`): static files, anonymous — the page holds no data; everything it shows comes
 * from `/admin/projections` and `/admin/jobs` with the operator token the person pastes in. Its routes
 * (`/admin/`, `/admin`, `/admin/assets/:file`) cannot shadow those: the router prefers static segments
 * (`projections`, `jobs`) and the assets live under a segment of their own.
 */
@ApiTags('admin page')
@Controller('admin')
@Public()
export class AdminPageController {
  constructor(private readonly assets: AdminPageAssets) {}

  // Nest drops one trailing slash of a route path ("admin" + "/" is "/admin"); "//" leaves the one that makes
  // the page's own URL `/admin/` (in the router and in the OpenAPI document alike).
  @Get('//')
  @ApiOperation({
    summary:
      'The admin page (HTML): projections, lag, rebuild/pause/resume with live progress, parked events',
    description:
      'Public: the page is static. Sign in on it by pasting an operator token; its data needs that token.',
  })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiNotModifiedResponse({ description: '`If-None-Match` names the current version' })
  page(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    send(request, reply, this.assets.page());
  }

  /** The same page without the slash (its links are absolute paths, so they work from both). */
  @Get()
  @ApiOperation({ summary: 'The admin page, as at `/admin/`' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiNotModifiedResponse({ description: '`If-None-Match` names the current version' })
  pageWithoutSlash(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    send(request, reply, this.assets.page());
  }

  @Get('assets/:file')
  @ApiOperation({ summary: "The admin page's script, stylesheet and icon" })
  @ApiParam({ name: 'file', example: 'admin.js' })
  @ApiProduces('text/javascript', 'text/css', 'image/svg+xml')
  @ApiOkResponse({ description: 'The file', content: { 'text/javascript': { schema: { type: 'string' } } } })
  @ApiNotModifiedResponse({ description: '`If-None-Match` names the current version' })
  @ApiNotFoundResponse({ description: 'No such file', content: PROBLEM_RESPONSE })
  asset(@Param('file') file: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const asset = this.assets.asset(file);
    if (!asset) throw HttpProblem.notFound(`The admin page has no file named "${file}"`);
    send(request, reply, asset);
  }
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset): void {
  void reply.headers(SECURITY_HEADERS).header('etag', asset.etag);
  const validators = request.headers['if-none-match'];
  if (typeof validators === 'string' && validators.split(/\s*,\s*/).includes(asset.etag)) {
    void reply.status(304).send();
    return;
  }
  void reply.status(200).type(asset.type).send(asset.body);
}
