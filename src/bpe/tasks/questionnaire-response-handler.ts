// A completed QuestionnaireResponse completes its user task (the reference's
// QuestionnaireResponseHandler): the user-task-id and business-key items say which; the response is
// set amended, then the user task completes with the response as process variable (read through
// Variables.getLatestReceivedQuestionnaireResponse). Handled once, like Tasks: claimed first, the
// claim finished in the engine's transaction, resumed after a crash.
import type { QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { EngineError, type ProcessEngine } from '../engine/index.ts';
import { BpmnUserTask, QuestionnaireResponseHelper, type FhirClient } from '../../plugin-api/index.ts';
import { AlreadyHandled, type HandledResources } from '../connector/handled-resources.ts';
import type { ResourceHandler } from '../connector/resource-connector.ts';
import { ProcessInstanceStop } from '../plugins/instance-stop.ts';
import { BpeVariables } from '../plugins/variable-names.ts';
import type { BpeLogger } from '../services/logging.ts';

export interface QuestionnaireResponseHandlerDeps {
  engine: ProcessEngine;
  local: FhirClient;
  handled: HandledResources;
  logger: BpeLogger;
  /** True once a shutdown gave up waiting and cut the database connections of the work still running. */
  abandoned?: () => boolean;
}

export class QuestionnaireResponseHandler implements ResourceHandler {
  readonly type = 'QuestionnaireResponse' as const;
  private readonly items = new QuestionnaireResponseHelper('');

  constructor(private readonly deps: QuestionnaireResponseHandlerDeps) {}

  async handle(resource: Resource): Promise<void> {
    const qr = resource as QuestionnaireResponse;
    if (qr.resourceType !== 'QuestionnaireResponse' || !qr.id || qr.status !== 'completed') return;
    if (!(await this.deps.handled.claim('QuestionnaireResponse', qr.id, qr.meta?.versionId))) return;
    await this.complete(qr, false);
  }

  async resumeUnfinished(): Promise<void> {
    for (const claimed of await this.deps.handled.unfinished('QuestionnaireResponse')) {
      try {
        const qr = await this.deps.local.read<QuestionnaireResponse>('QuestionnaireResponse', claimed.id);
        if (qr.status === 'completed') await this.complete(qr, false);
        else if (qr.status === 'amended') await this.complete(qr, true);
        else await this.deps.handled.finish('QuestionnaireResponse', claimed.id, 'ignored', `status ${qr.status} when resumed`);
      } catch (e) {
        this.deps.logger.warn(`QuestionnaireResponse/${claimed.id} claimed before a restart: ${(e as Error).message}`);
      }
    }
  }

  private async complete(qr: QuestionnaireResponse, alreadyAmended: boolean): Promise<void> {
    const { engine, local, handled, logger } = this.deps;
    const userTaskId = this.items.getStringAnswer(qr, BpmnUserTask.userTaskId);
    const businessKey = this.items.getStringAnswer(qr, BpmnUserTask.businessKey) ?? '?';
    const user = `${qr.author?.identifier?.value ?? '?'}|${qr.author?.type ?? '?'}`;
    if (!userTaskId) {
      logger.warn(`QuestionnaireResponse '${qr.id}' for Questionnaire '${qr.questionnaire}' has no answer with item.linkId '${BpmnUserTask.userTaskId}' [businessKey: ${businessKey}, user: ${user}], ignoring it`);
      await handled.finish('QuestionnaireResponse', qr.id!, 'ignored', 'no user-task-id');
      return;
    }
    const received = structuredClone(qr);
    if (!alreadyAmended) {
      try {
        await local.update({ ...qr, status: 'amended' }, { ifMatch: false });
      } catch (e) {
        logger.warn(`Unable to update QuestionnaireResponse ${qr.id} (status amended): ${(e as Error).message}`);
      }
    }
    logger.info(`QuestionnaireResponse '${qr.id}' for Questionnaire '${qr.questionnaire}' completed [userTaskId: ${userTaskId}, businessKey: ${businessKey}, user: ${user}]`);
    try {
      await engine.completeUserTask(
        userTaskId,
        { [BpeVariables.questionnaireResponse]: { ...received, status: 'completed' } },
        { inTransaction: (client) => handled.finishIn(client, 'QuestionnaireResponse', qr.id!, 'completed', userTaskId) },
      );
    } catch (e) {
      if (e instanceof AlreadyHandled) return;
      // Cut off by the shutdown, not failed: the claim stays open and is resumed after the restart.
      if (this.deps.abandoned?.()) throw e;
      if (e instanceof ProcessInstanceStop) {
        await engine.cancelInstance(e.instanceId).catch(() => false);
        await handled.finish('QuestionnaireResponse', qr.id!, 'failed', e.message);
        return;
      }
      const known = e instanceof EngineError;
      logger.warn(`Unable to complete user task ${userTaskId}: ${(e as Error).message}`);
      await handled.finish('QuestionnaireResponse', qr.id!, known ? 'ignored' : 'failed', (e as Error).message);
    }
  }
}
