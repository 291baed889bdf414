// Loads the plugins, deploys their processes and FHIR resources, and answers "which plugin runs this
// process definition" for the activity delegates and the Task handler.
import type pg from 'pg';
import type { ProcessEngine } from '../engine/index.ts';
import type { FhirClient } from '../../plugin-api/index.ts';
import type { ProcessIdAndVersion } from '../config.ts';
import type { BpeLogger } from '../services/logging.ts';
import { PluginActivities, type PluginRuntime } from './activity-delegates.ts';
import { pluginLabel, processKey, type LoadedPlugin } from './loaded-plugin.ts';
import { createProcessPluginApi, type SharedServices } from './plugin-api-factory.ts';
import { describeRefusal, loadPlugins, type PluginRefusal } from './plugin-loader.ts';
import { deployProcesses, type ProcessStateChange } from './process-states.ts';
import { endInstancesOfRemovedProcesses, type EndedInstance } from './removed-processes.ts';
import { deployResources, type DeploymentReport } from './resource-deployment.ts';

export interface PluginDeploymentOptions {
  directories: readonly string[];
  excluded: readonly ProcessIdAndVersion[];
  retired: readonly ProcessIdAndVersion[];
  env: Record<string, string | undefined>;
  /** Client for writing the plugins' FHIR resources (with the configured retries). */
  deploymentClient: FhirClient;
}

export interface PluginDeploymentResult {
  plugins: LoadedPlugin[];
  refused: PluginRefusal[];
  states: ProcessStateChange[];
  resources: DeploymentReport;
  /** Instances of processes no loaded plugin provides any more, ended with their Tasks failed. */
  ended: EndedInstance[];
}

export class PluginManager {
  readonly activities: PluginActivities;
  private engine: ProcessEngine | undefined;
  private readonly byProcess = new Map<string, PluginRuntime>();
  private readonly byDefinition = new Map<string, PluginRuntime>();
  /** processId|version -> the id of its newest active definition (definitions change only at deployment). */
  private readonly activeDefinitions = new Map<string, string>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly shared: SharedServices,
    private readonly logger: BpeLogger,
  ) {
    this.activities = new PluginActivities((definitionId) => this.runtimeOf(definitionId));
  }

  /** The engine whose definitions this manager resolves (it is built with this manager's delegates). */
  attach(engine: ProcessEngine): void {
    this.engine = engine;
  }

  async deploy(options: PluginDeploymentOptions): Promise<PluginDeploymentResult> {
    const engine = this.requireEngine();
    const organizationIdentifier = await this.shared.organizations.getLocalOrganizationIdentifierValue();
    if (!organizationIdentifier) this.logger.warn(`local organization unknown: no active Endpoint with address ${this.shared.localBaseUrl} and active Organization found`);
    const { plugins, refused } = await loadPlugins(options.directories, { organizationIdentifier, env: options.env });
    for (const r of refused) this.logger.error(describeRefusal(r));
    this.activities.register(plugins);
    const states = await deployProcesses(engine, this.pool, plugins, options);
    for (const s of states) if (s.oldState !== s.newState) this.logger.info(`process ${s.processId}|${s.version}: ${s.oldState} -> ${s.newState}`);
    const resources = await deployResources(options.deploymentClient, this.pool, plugins, states);
    const loaded = new Set(plugins.flatMap((p) => p.processes.map((x) => processKey(x.processId, x.version))));
    const ended = await endInstancesOfRemovedProcesses(engine, options.deploymentClient, states, loaded, this.logger);
    this.logger.info(
      `plugins deployed: ${plugins.map((p) => (p.apiVersion === 1 ? `${pluginLabel(p)} (API v1 files, converted)` : pluginLabel(p))).join(', ') || 'none'}; FHIR resources created ${resources.created.length}, updated ${resources.updated.length}, deleted ${resources.deleted.length}, unchanged ${resources.unchanged.length}`,
    );
    this.byProcess.clear();
    this.byDefinition.clear();
    for (const plugin of plugins) {
      const runtime: PluginRuntime = { plugin, api: createProcessPluginApi(plugin, this.shared) };
      for (const p of plugin.processes) this.byProcess.set(processKey(p.processId, p.version), runtime);
    }
    this.activeDefinitions.clear();
    for (const d of (await engine.listDefinitions()).sort((a, b) => a.version - b.version)) {
      if (!d.suspended && this.byProcess.has(processKey(d.key, d.versionTag ?? ''))) this.activeDefinitions.set(processKey(d.key, d.versionTag ?? ''), d.id);
    }
    await this.notifyDeploymentListeners(plugins, states);
    return { plugins, refused, states, resources, ended };
  }

  /** Each plugin's deployment listeners learn which of its processes are active (ACTIVE or DRAFT); failures are logged. */
  private async notifyDeploymentListeners(plugins: readonly LoadedPlugin[], states: readonly ProcessStateChange[]): Promise<void> {
    const active = new Set(states.filter((s) => s.newState === 'ACTIVE' || s.newState === 'DRAFT').map((s) => processKey(s.processId, s.version)));
    for (const plugin of plugins) {
      const listeners = plugin.definition.deploymentListeners ?? [];
      if (listeners.length === 0) continue;
      const processIds = plugin.processes.filter((p) => active.has(processKey(p.processId, p.version))).map((p) => p.processId);
      for (const listener of listeners) {
        try {
          await listener.onProcessesDeployed([...processIds]);
        } catch (e) {
          this.logger.warn(`Error while executing deployment listener of plugin ${pluginLabel(plugin)}: ${(e as Error)?.name ?? 'Error'} - ${(e as Error)?.message ?? String(e)}`);
        }
      }
    }
  }

  /** The newest active definition of a loaded process, if any (what a Task for it starts). */
  activeDefinition(processId: string, version: string): string | undefined {
    return this.activeDefinitions.get(processKey(processId, version));
  }

  /** The plugin of a process id and version, if loaded. */
  pluginOf(processId: string, version: string): PluginRuntime | undefined {
    return this.byProcess.get(processKey(processId, version));
  }

  async runtimeOf(definitionId: string): Promise<PluginRuntime> {
    const known = this.byDefinition.get(definitionId);
    if (known) return known;
    const def = (await this.requireEngine().listDefinitions()).find((d) => d.id === definitionId);
    const runtime = def ? this.byProcess.get(processKey(def.key, def.versionTag ?? '')) : undefined;
    if (!runtime) throw new Error(`no loaded process plugin provides process definition ${definitionId}`);
    this.byDefinition.set(definitionId, runtime);
    return runtime;
  }

  private requireEngine(): ProcessEngine {
    if (!this.engine) throw new Error('PluginManager: no engine attached');
    return this.engine;
  }
}
