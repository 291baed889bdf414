// helloWorld's only activity: greets the organisation that started the process, in the log.
import { ServiceTask, type ProcessPluginApi, type Variables } from '../../../src/plugin-api/index.ts';

export class HelloWorld extends ServiceTask {
  execute(api: ProcessPluginApi, variables: Variables): void {
    const task = variables.getStartTask();
    api.logger.info(`Hello World from organization with identifier '${task?.requester?.identifier?.value ?? '?'}'`);
  }
}
