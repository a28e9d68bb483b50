/**
 * The composition root: builds every component from one Config, starts the listeners and
 * returns a handle that stops them in the right order. No request logic lives here.
 */
import type { Logger } from 'pino';
import { healthReport, startAdminServer } from '../admin/index.js';
import { createAuth } from '../auth/authorizer.js';
import { createBackend } from '../backend/create-backend.js';
import type { Backend } from '../backend/types.js';
import type { Config } from '../config/types.js';
import { Dispatcher } from '../dispatch/dispatcher.js';
import { EventBus } from '../observe/events.js';
import { createLogger } from '../observe/logger.js';
import { createMetrics, type Metrics } from '../observe/metrics.js';
import { createProber } from '../observe/prober.js';
import { startMetricsServer } from '../observe/metrics-server.js';
import { subscribeRequestLog } from '../observe/request-log.js';
import { ForwardingHandler } from '../proxy/forwarding-handler.js';
import { ProxyListener } from '../proxy/proxy-listener.js';
import { Router } from '../proxy/router.js';
import { UpstreamClients } from '../upstream/upstream-clients.js';
import { buildTargetRuntimes, syncTargets } from './target-runtimes.js';

/** How long start waits for Redis before starting the listeners anyway. */
const BACKEND_START_WAIT_MS = 3000;

export interface StartOptions {
  logger?: Logger;
  events?: EventBus;
  /** How long in-flight requests may run on after stop() before they are cut. */
  shutdownGraceMs?: number;
}

export interface RunningProxyHopper {
  config: Config;
  proxyPort: number;
  adminPort: number | null;
  metricsPort: number | null;
  events: EventBus;
  backend: Backend;
  logger: Logger;
  stop(): Promise<void>;
}

export async function startProxyHopper(
  config: Config,
  options: StartOptions = {},
): Promise<RunningProxyHopper> {
  const { server } = config;
  const logger = options.logger ?? createLogger(server);
  const log = logger.child({ logger: 'proxy_hopper.server' });
  for (const warning of config.warnings) log.warn({ source: config.source }, warning);

  const events = options.events ?? new EventBus();
  const stopRequestLog = subscribeRequestLog(events, logger, {
    debugQuarantine: server.debugQuarantine,
  });
  const backend = createBackend(config, { events, logger });
  // The backend connects in the background: with Redis down at start the listeners still come
  // up, /health reports the backend as failing, and requests get 503 backend_unavailable until
  // Redis replies. The memory backend is ready at once.
  let backendStopped = false;
  const backendStarted = backend.start().then(
    async () => {
      const errors = await syncTargets(config.targets, backend);
      for (const err of errors)
        log.error({ err }, 'registering a target pool with the backend failed');
      if (errors.length === 0 && backend.kind === 'redis')
        log.info('backend ready: every target pool is registered');
    },
    (err: unknown) => {
      if (!backendStopped) log.error({ err }, 'backend failed to start');
    },
  );

  const stack: (() => Promise<void> | void)[] = [
    stopRequestLog,
    () => {
      backendStopped = true;
      return backend.stop();
    },
  ];
  const unwind = async (): Promise<void> => {
    for (const step of stack.reverse()) {
      try {
        await step();
      } catch (err) {
        log.error({ err }, 'shutdown step failed');
      }
    }
  };

  try {
    const runtimes = buildTargetRuntimes(config.targets, backend, events);
    if (backend.kind === 'memory') {
      await backendStarted;
    } else {
      // Redis that is up gets a moment to connect, so the first requests do not see 503; one
      // that is down must not keep the listeners (and /health) from coming up.
      await waitAtMost(backendStarted, BACKEND_START_WAIT_MS);
      await syncTargets(config.targets, backend);
    }
    const byName = new Map(runtimes.map((runtime) => [runtime.config.name, runtime]));
    const unsubscribeWake = backend.onWake((target) => byName.get(target)?.queue.pump());
    stack.push(unsubscribeWake, () => runtimes.forEach((runtime) => runtime.queue.close()));

    let metrics: Metrics | null = null;
    if (server.metrics) {
      metrics = createMetrics({ events, backend, targets: () => config.targets, logger });
      const created = metrics;
      stack.push(() => created.stop());
    }

    const auth = createAuth(config, { logger: logger.child({ logger: 'proxy_hopper.auth' }) });
    stack.push(() => auth.close());

    const clients = new UpstreamClients({
      connectTimeoutMs: server.connectTimeoutMs,
      responseTimeoutMs: server.responseTimeoutMs,
      proxyReadTimeoutMs: server.proxyReadTimeoutMs,
      caFile: server.caFile,
    });
    stack.push(() => clients.destroy());

    const prober = createProber({
      settings: server,
      targets: () => config.targets,
      events,
      logger,
    });
    prober.start();
    stack.push(() => prober.stop());

    const dispatcher = new Dispatcher({
      backend,
      clients,
      events,
      leaseTtlMs: server.leaseTtlMs,
      avoid: (tried) => prober.health.avoidSet(tried),
    });
    const forwarding = new ForwardingHandler({
      router: new Router(runtimes),
      dispatcher,
      authorizer: auth.authorizer,
      events,
      logger: logger.child({ logger: 'proxy_hopper.handlers' }),
      retryBodyLimitBytes: server.retryBodyLimitBytes,
      clientStallTimeoutMs: server.proxyReadTimeoutMs,
    });
    const listener = new ProxyListener({
      host: server.host,
      port: server.port,
      forwarding,
      events,
      logger: log,
      health: () => {
        const report = healthReport(backend);
        return { status: report.statusCode, body: report.body };
      },
    });
    const proxyPort = await listener.listen();
    stack.push(() => listener.close(options.shutdownGraceMs ?? 10_000));

    let metricsPort: number | null = null;
    if (server.metrics && metrics !== null) {
      const metricsServer = await startMetricsServer({
        host: server.metricsHost,
        port: server.metricsPort,
        registry: metrics.registry,
        logger,
        beforeScrape: metrics.refresh,
      });
      metricsPort = metricsServer.port;
      stack.push(() => metricsServer.close());
    }

    let adminPort: number | null = null;
    if (server.admin) {
      const admin = await startAdminServer({
        config,
        backend,
        authorizer: auth.authorizer,
        login: (request) => auth.login(request),
        registry: metrics?.registry ?? null,
        logger,
        ...(metrics === null ? {} : { beforeScrape: metrics.refresh }),
        probes: prober,
      });
      adminPort = admin.port;
      stack.push(() => admin.close());
    }

    log.info(
      {
        host: server.host,
        port: proxyPort,
        backend: backend.kind,
        auth: config.auth.enabled,
        targets: runtimes.length,
      },
      `Proxy Hopper running on ${server.host}:${proxyPort} (backend=${backend.kind}, auth=${config.auth.enabled ? 'enabled' : 'disabled'})`,
    );

    let stopping: Promise<void> | null = null;
    return {
      config,
      proxyPort,
      adminPort,
      metricsPort,
      events,
      backend,
      logger,
      stop: () => {
        // Queued requests get 503 server_shutdown at once; in-flight ones get the grace period.
        stopping ??= Promise.resolve()
          .then(() => runtimes.forEach((runtime) => runtime.queue.close()))
          .then(unwind)
          .then(() => log.info('Proxy Hopper stopped'));
        return stopping;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

function waitAtMost(promise: Promise<unknown>, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    void promise.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
