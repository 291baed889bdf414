// bpmn-moddle 10 ships no declaration for its main entry; this states the part the parser uses.
declare module 'bpmn-moddle' {
  export interface ModdleElement {
    readonly $type: string;
    readonly id?: string;
    get(name: string): unknown;
    // Moddle elements carry their BPMN/Camunda attributes as plain properties.
    readonly [property: string]: any;
  }
  export class BpmnModdle {
    constructor(packages?: Record<string, unknown>);
    fromXML(xml: string): Promise<{ rootElement: ModdleElement; warnings: Array<{ message: string }> }>;
  }
}
