// Classes of the reference's API that BPMN files name directly, mapped to ours so those files run
// unchanged (a plugin's own mapping of the same name wins).
import { DefaultUserTaskListener, type ActivityClass } from '../../plugin-api/index.ts';

export const BUILT_IN_ACTIVITIES: Readonly<Record<string, ActivityClass>> = Object.freeze({
  'dev.dsf.bpe.v2.activity.DefaultUserTaskListener': DefaultUserTaskListener as unknown as ActivityClass,
});
