// Classes of the reference's API that BPMN files name directly, mapped to ours so those files run
// unchanged (a plugin's own mapping of the same name wins). Each API version has its own name for the
// default user task listener.
import { DefaultUserTaskListener, type ActivityClass } from '../../plugin-api/index.ts';
import type { PluginApiVersion } from './api-v1-conversion.ts';

const BY_API_VERSION: Readonly<Record<PluginApiVersion, Readonly<Record<string, ActivityClass>>>> = Object.freeze({
  1: Object.freeze({ 'dev.dsf.bpe.v1.activity.DefaultUserTaskListener': DefaultUserTaskListener as unknown as ActivityClass }),
  2: Object.freeze({ 'dev.dsf.bpe.v2.activity.DefaultUserTaskListener': DefaultUserTaskListener as unknown as ActivityClass }),
});

export function builtInActivities(apiVersion: PluginApiVersion): Readonly<Record<string, ActivityClass>> {
  return BY_API_VERSION[apiVersion];
}
