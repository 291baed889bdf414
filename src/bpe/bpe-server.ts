// The BPE server: its database (external, or an embedded PostgreSQL under its data folder), the
// engine with the plugins deployed, the job executor, and the connectors that turn the local FHIR
// server's Task and QuestionnaireResponse events into process starts, messages and user task
// completions. It talks to FHIR servers only over HTTPS and the websocket.
import { join } from 'node:path';
import type pg from 'pg';
import { createPool, endPool, ensureDatabase, withDatabase } from '../db/pool.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded.ts';
import type { MailService } from '../plugin-api/index.ts';
import { createBpeCore, type BpeCore } from './bpe-core.ts';
import { DEFAULT_ERROR_MAIL_SHUTDOWN_WAIT_MS, type BpeConfig } from './config.ts';
import { BpeDsfClientProvider } from './client/dsf-client-provider.ts';
import { HandledResources } from './connector/handled-resources.ts';
import { LastEventStore } from './connector/last-event-store.ts';
import { ResourceConnector, type ResourceHandler } from './connector/resource-connector.ts';
import { ProcessInstanceStop } from './plugins/instance-stop.ts';
import type { PluginDeploymentResult } from './plugins/plugin-manager.ts';
import { BpeLogger, consoleSink } from './services/logging.ts';
import { TaskHandler } from './tasks/task-handler.ts';
import { TaskListeners } from './tasks/task-listeners.ts';
import { QuestionnaireResponseHandler } from './tasks/questionnaire-response-handler.ts';
import { createBpeMetrics } from './bpe-metrics.ts';
import { createMailService } from './services/mail-factory.ts';
import { errorMailTap } from './services/error-mail.ts';
import { traceIdOfTask, traceparentFor } from '../common/trace.ts';
import type { Task } from '@medplum/fhirtypes';
import { startStatusServer, type StatusServer } from '../common/status-server.ts';
import type { Registry } from 'prom-client';
import { startBpeWebServer, type BpeWebServer } from './web/bpe-web-server.ts';
import { clientCertificates } from './web/client-certificate.ts';
import { createBpeWebUi } from './ui/bpe-web-ui.ts';
import { BpeRoleConfig } from './ui/bpe-role-config.ts';
import { OidcLogin } from '../common/web/oidc-login.ts';

/** After a clean stop only stray reads (a status request) may still hold a connection: this long for them. */
const POOL_END_GRACE_MS = 5_000;

export interface RunningBpe {
  core: BpeCore;
  deployment: PluginDeploymentResult;
  taskConnector: ResourceConnector;
  questionnaireResponseConnector: ResourceConnector;
  /** Resolves when the connectors are bound and caught up. */
  connected(): Promise<void>;
  /** Whether both connectors are bound to their Subscriptions now. */
  isConnected(): boolean;
  /** Prometheus metrics (served on the status port). */
  metrics: Registry;
  /** The status port's server, when a status port is configured. */
  status?: StatusServer;
  /** The HTTPS server with the status JSON and the BPE view, when DEV_DSF_BPE_SERVER_BASE_URL is set. */
  web?: BpeWebServer;
  stop(): Promise<void>;
}

export interface BpeStartOptions {
  /** Use this pool instead of the configured or embedded database. */
  pool?: pg.Pool;
  logger?: BpeLogger;
  mail?: MailService;
  /** Poll interval of the job executor (timers, async continuations). */
  jobPollIntervalMs?: number;
}

export async function startBpeServer(config: BpeConfig, options: BpeStartOptions = {}): Promise<RunningBpe> {
  const baseLogger = options.logger ?? new BpeLogger(consoleSink());
  const mail = options.mail ?? createMailService(config, baseLogger);
  // Mail on errors: ERROR lines (plugins' included) go to the mail recipients with the lines before it, rate limited.
  const errorMails = config.mail.sendMailOnErrorLogEvent
    ? errorMailTap(mail, {
        bufferSize: config.mail.mailOnErrorLogEventBufferSize ?? 4,
        logLocation: config.mail.mailOnErrorLogEventDebugLogLocation ?? 'the BPE log',
        site: config.fhirServerBaseUrl,
        maxPerInterval: config.mail.mailOnErrorMaxPerInterval,
        intervalMs: config.mail.mailOnErrorIntervalMs,
      })
    : undefined;
  const logger = errorMails ? baseLogger.tapped(errorMails) : baseLogger;
  if (config.mail.sendTestMailOnStartup) {
    await mail.send('DSF BPE test mail', `A test mail of the BPE at ${config.fhirServerBaseUrl} (DEV_DSF_BPE_MAIL_SENDTESTMAILONSTARTUP).`).then(
      () => logger.info('test mail sent'),
      (e: Error) => logger.warn(`test mail not sent: ${e.message}`),
    );
  }
  let embedded: EmbeddedDatabase | undefined;
  let pool = options.pool;
  if (!pool) {
    let url = config.dbUrl;
    if (!url) {
      logger.info('starting embedded PostgreSQL');
      embedded = await startEmbeddedPostgres(join(config.dataDir, 'postgres'));
      url = withDatabase(embedded.url, 'bpe');
    }
    await ensureDatabase(url);
    pool = createPool(url, config.dbPoolMax ?? 10, { waitTimeoutMs: config.dbPoolWaitTimeoutMs });
  }
  const ownPool = !options.pool;
  const clients = new BpeDsfClientProvider(config);
  const metrics = createBpeMetrics(pool);
  // Task creates at other sites carry a W3C traceparent (trace id from the business key) and are counted.
  clients.remoteObserver = {
    headers: (method, _baseUrl, body) => {
      const traceparent = method === 'POST' ? traceparentFor(body) : undefined;
      return traceparent ? { traceparent } : undefined;
    },
    done: (method, baseUrl, body, error) => {
      metrics.taskSends.done?.(method, baseUrl, body, error);
      const trace = method === 'POST' && body.resourceType === 'Task' ? traceIdOfTask(body as Task) : undefined;
      if (trace) logger.info(`Task ${(body as Task).instantiatesCanonical ?? ''} ${error === undefined ? 'sent to' : 'not sent to'} ${baseUrl} [trace: ${trace}]`);
    },
  };
  // Set when the shutdown timeout passed with work still running: that work is cut off, not failed.
  let abandoned = false;
  const listeners = new TaskListeners(clients.getLocal(), logger.child('tasks'));
  let core: BpeCore | undefined;
  let web: BpeWebServer | undefined;
  try {
    core = await createBpeCore(config, pool, logger, {
      clients,
      mail,
      hooks: { beforeExecutionListeners: (event, execution, node) => listeners.beforeExecutionListeners(event, execution, node) },
      jobs: {
        pollIntervalMs: options.jobPollIntervalMs,
        onJobExecuted: () => metrics.jobExecuted(),
        onJobFailure: async (jobId, error) => {
          metrics.jobFailed();
          if (error instanceof ProcessInstanceStop) {
            logger.warn(`process instance ${error.instanceId} stopped by job ${jobId}: ${(error.reason as Error)?.message ?? error.message}`);
            await core!.engine.cancelInstance(error.instanceId);
          } else logger.warn(`job ${jobId} failed: ${(error as Error)?.message ?? String(error)}`);
        },
      },
    });
    metrics.observeJobWorkers(() => core!.engine.runningJobs, core.engine.jobWorkers);
    logger.info(`deploying process plugins from ${[config.pluginDirectory, ...config.extraPluginDirectories].join(', ')}`);
    const deployment = await core.deployPlugins();
    // The reference tests configured connections at start (a token per OIDC provider, /metadata where asked); failures are logged only.
    const connectionTests = core.connections.testConnections().catch((e) => logger.warn(`FHIR connection tests failed: ${(e as Error).message}`));
    const handled = new HandledResources(pool);
    const lastEvents = new LastEventStore(pool);
    const connectorFor = (handler: ResourceHandler, search: string) =>
      new ResourceConnector({
        client: clients.getLocal(),
        tls: config,
        subscriptionSearch: search,
        retryMax: config.subscriptionRetryMax,
        retrySleepMs: config.subscriptionRetrySleepMs,
        overlapMs: config.catchUpOverlapMs,
        lastEvents,
        handler,
        logger: logger.child(`${handler.type}-connector`),
      });
    const taskConnector = connectorFor(
      new TaskHandler({ engine: core.engine, plugins: core.plugins, local: clients.getLocal(), handled, logger: logger.child('task-handler'), abandoned: () => abandoned }),
      config.taskSubscriptionSearch,
    );
    const questionnaireResponseConnector = connectorFor(
      new QuestionnaireResponseHandler({ engine: core.engine, local: clients.getLocal(), handled, logger: logger.child('questionnaire-response-handler'), abandoned: () => abandoned }),
      config.questionnaireResponseSubscriptionSearch,
    );
    const connectors = [taskConnector, questionnaireResponseConnector];
    const running = core;
    const connected = () => Promise.all(connectors.map((c) => c.whenConnected())).then(() => undefined);
    const connectedNow = () => connectors.every((c) => c.connected);
    if (config.web) web = await startWebServer(config, running, deployment, connectedNow, logger);
    let status: StatusServer | undefined;
    if (config.statusPort !== undefined) {
      const db = pool;
      status = await startStatusServer({
        host: config.statusHost ?? '127.0.0.1',
        port: config.statusPort,
        registry: metrics.registry,
        status: async () => {
          await db.query('SELECT 1');
          return {
            ok: true,
            details: {
              server: 'bpe',
              fhirBaseUrl: config.fhirServerBaseUrl,
              connected: connectedNow(),
              plugins: deployment.plugins.map((p) => `${p.name}-${p.version}`),
              processes: deployment.states.map((s) => ({ process: `${s.processId}|${s.version}`, state: s.newState })),
            },
          };
        },
      });
      logger.info(`status port ${status.url}/status and /metrics`);
    }
    core.engine.startJobExecutor();
    for (const c of connectors) c.start();
    return {
      core: running,
      deployment,
      taskConnector,
      questionnaireResponseConnector,
      connected,
      isConnected: connectedNow,
      metrics: metrics.registry,
      status,
      web,
      async stop() {
        // Graceful and bounded: the websockets and the job executor take no further work; the Task
        // (or QuestionnaireResponse) being handled and the jobs running get DSF_BPE_SHUTDOWN_TIMEOUT_MS
        // together. Only then does the pool close: nothing uses it any more, or what still runs is
        // abandoned (its connection cut, so its transaction rolls back and it runs after the restart).
        await connectionTests;
        const timeoutMs = config.shutdownTimeoutMs ?? 30_000;
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([
          Promise.all([...connectors.map((c) => c.stop()), running.engine.stopJobExecutor()]).then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
        ]);
        clearTimeout(timer);
        if (!finished) {
          abandoned = true;
          running.engine.abandonRunningJob();
          logger.warn(`work still ran after ${timeoutMs} ms (DSF_BPE_SHUTDOWN_TIMEOUT_MS); its transaction is rolled back and it runs again after the restart`);
        }
        await status?.close();
        await web?.close();
        running.close();
        if (ownPool) await endPool(pool!, finished ? POOL_END_GRACE_MS : 0);
        await embedded?.stop();
        // Last, so errors of the shutdown itself are in the summary of what the rate limit held back.
        await errorMails?.close(config.mail.mailOnErrorShutdownWaitMs ?? DEFAULT_ERROR_MAIL_SHUTDOWN_WAIT_MS);
      },
    };
  } catch (e) {
    await web?.close();
    core?.close();
    clients.close();
    if (ownPool) await pool.end().catch(() => {});
    await embedded?.stop();
    throw e;
  }
}

/** The BPE's HTTPS server: the status JSON and the BPE view for the ADMINs of DEV_DSF_BPE_SERVER_ROLECONFIG. */
async function startWebServer(config: BpeConfig, core: BpeCore, deployment: PluginDeploymentResult, connected: () => boolean, logger: BpeLogger): Promise<BpeWebServer> {
  const web = config.web!;
  // The organisation as the local FHIR server names it (deployment reached that server already).
  const organization = (await core.organizations.getLocalOrganizationIdentifierValue().catch(() => undefined)) ?? new URL(config.fhirServerBaseUrl).host;
  const certificateOf = clientCertificates({ header: web.clientCertificateHeader, trustedProxyAddresses: web.trustedProxyAddresses, trustedCas: web.trustedClientCas });
  const server = await startBpeWebServer(
    web,
    () => ({
      organization,
      fhirBaseUrl: config.fhirServerBaseUrl,
      connected: connected(),
      plugins: deployment.plugins.map((p) => `${p.name}-${p.version}`),
      processes: deployment.states.map((s) => ({ process: `${s.processId}|${s.version}`, state: s.newState })),
    }),
    createBpeWebUi({
      engine: core.engine,
      deployment,
      organization,
      roles: config.roleConfig ?? new BpeRoleConfig(),
      base: `${new URL(web.baseUrl).pathname.replace(/\/$/, '')}/ui`,
      url: `${web.baseUrl}/ui`,
      fhirUiUrl: `${config.fhirServerBaseUrl}/Task?status=draft`,
      login: config.oidcLogin ? new OidcLogin(config.oidcLogin) : undefined,
      certificateOf,
      log: logger.child('bpe-web'),
    }),
    certificateOf,
    logger.child('bpe-web'),
  );
  logger.info(`HTTPS ${server.baseUrl} (status, client certificate) and the BPE view ${server.uiUrl}${config.oidcLogin ? ' (OpenID Connect sign-in)' : ''}`);
  return server;
}
