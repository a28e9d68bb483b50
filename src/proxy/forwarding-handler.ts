/**
 * Handles one request in forwarding mode, from the control headers to the streamed response:
 * parse, route, authorize, read the body for replay, run the attempt loop, stream back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ProxyAuthorizer } from '../auth/types.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { readRequestBody } from '../dispatch/request-body.js';
import { ProxyHopperError, isProxyHopperError } from '../errors/index.js';
import type { EventBus } from '../observe/events.js';
import {
  TARGET_HEADER,
  outboundHeaders,
  readControlHeaders,
  type ControlValues,
} from './control-headers.js';
import { writeError } from './error-response.js';
import type { Router } from './router.js';
import { streamResponse } from './stream-response.js';
import { joinPath, parseTargetHeader } from './target-header.js';

export interface ForwardingDeps {
  router: Router;
  dispatcher: Dispatcher;
  authorizer: ProxyAuthorizer;
  events: EventBus;
  logger: Logger;
  retryBodyLimitBytes: number;
  /** How long a client may leave a response unread before it is cut (server.proxyReadTimeout). */
  clientStallTimeoutMs: number;
  now?: () => number;
}

interface RequestState {
  requestId: string;
  method: string;
  url: string;
  target: string;
  tag: string;
  attempts: number;
  address: string | null;
  arrivalMs: number;
  /** Live attempt count of the dispatcher, once the request reached it. */
  progress: { attempts: number; address: string | null } | null;
}

export class ForwardingHandler {
  private readonly now: () => number;

  constructor(private readonly deps: ForwardingDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** True when the request is for forwarding mode (it carries the target header). */
  claims(req: IncomingMessage): boolean {
    return req.headers[TARGET_HEADER] !== undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const state: RequestState = {
      requestId: '',
      method: req.method ?? 'GET',
      url: '',
      target: 'unmatched',
      tag: '',
      attempts: 0,
      address: null,
      arrivalMs: this.now(),
      progress: null,
    };
    try {
      const control = readControlHeaders(req.rawHeaders);
      state.requestId = control.requestId;
      state.tag = control.tag;
      await this.forward(req, res, control, state);
    } catch (err) {
      this.fail(res, err, state);
    }
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    control: ControlValues,
    state: RequestState,
  ): Promise<void> {
    const { events } = this.deps;
    const parsed = parseTargetHeader(control.target ?? '');
    const pathAndQuery = joinPath(parsed, req.url ?? '/');
    state.url = parsed.origin + pathAndQuery;
    events.emit('request_start', {
      requestId: state.requestId,
      method: state.method,
      url: state.url,
      tag: state.tag,
    });

    const target = this.deps.router.match(state.url);
    if (target !== null) state.target = target.config.name;
    if (this.deps.authorizer.enabled) {
      await this.deps.authorizer.authorizeProxy(control.auth, target?.config.name ?? null);
    }
    if (target === null) {
      events.emit('request_unmatched', {
        requestId: state.requestId,
        method: state.method,
        url: state.url,
        tag: state.tag,
      });
      throw new ProxyHopperError(
        'no_target_match',
        `No target matched for URL: ${state.url}. Add a target whose regex matches it, or check X-Proxy-Hopper-Target.`,
      );
    }

    const body = await readRequestBody(req, this.deps.retryBodyLimitBytes);
    const controller = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
    };
    res.once('close', onClose);

    const progress = { attempts: 0, address: null as string | null };
    state.progress = progress;
    const success = await this.deps.dispatcher.dispatch({
      requestId: state.requestId,
      tag: state.tag,
      url: state.url,
      outbound: {
        scheme: parsed.scheme,
        origin: parsed.origin,
        pathAndQuery,
        method: state.method,
        headers: outboundHeaders(req.rawHeaders, {
          host: parsed.host,
          requestId: state.requestId,
          overrides: control.overrides,
          spoofUserAgent: target.config.spoofUserAgent,
          bodyLengthBytes: body.lengthBytes,
        }),
      },
      body,
      target,
      numRetries: control.retries ?? target.config.numRetries,
      arrivalMs: state.arrivalMs,
      signal: controller.signal,
      progress,
    });
    state.attempts = success.attempts;
    state.address = success.address;

    streamResponse(
      res,
      success.response,
      state.requestId,
      this.deps.clientStallTimeoutMs,
      (end, error) => {
        res.removeListener('close', onClose);
        success.finish(end, error);
        this.publishEnd(state, success.response.statusCode, null, end !== 'complete');
      },
    );
  }

  private fail(res: ServerResponse, err: unknown, state: RequestState): void {
    if (state.progress !== null) {
      state.attempts = state.progress.attempts;
      state.address = state.progress.address;
    }
    let error: ProxyHopperError;
    if (isProxyHopperError(err)) {
      error = err;
    } else {
      this.deps.logger.error(
        { err, requestId: state.requestId, url: state.url },
        'unexpected error while handling a request',
      );
      error = new ProxyHopperError(
        'proxy_error',
        `Internal error while handling the request; the Proxy Hopper log has the details under request id ${state.requestId}`,
      );
    }
    if (res.destroyed || res.writableEnded) {
      this.publishEnd(state, 499, error.code, true);
      return;
    }
    writeError(res, error, state.requestId || 'none', state.method);
    this.publishEnd(state, error.status, error.code, false);
  }

  private publishEnd(
    state: RequestState,
    status: number,
    errorCode: string | null,
    aborted: boolean,
  ): void {
    this.deps.events.emit('request_end', {
      requestId: state.requestId,
      method: state.method,
      url: state.url,
      target: state.target,
      tag: state.tag,
      status,
      errorCode,
      attempts: state.attempts,
      address: state.address,
      durationMs: this.now() - state.arrivalMs,
      aborted,
    });
  }
}
