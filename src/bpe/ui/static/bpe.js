// The BPE view's script: draws an instance's BPMN diagram with bpmn-js (served by the BPE itself) and
// marks its completed, active and failed elements; asks before a cancel.
'use strict';

async function drawDiagram(host) {
  if (typeof BpmnJS === 'undefined') {
    host.textContent = 'The diagram viewer did not load.';
    return;
  }
  const res = await fetch(host.dataset.xmlUrl, { credentials: 'same-origin' });
  if (!res.ok) {
    host.textContent = `The diagram could not be loaded (HTTP ${res.status}).`;
    return;
  }
  const viewer = new BpmnJS({ container: host });
  await viewer.importXML(await res.text());
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  canvas.zoom('fit-viewport', 'auto');
  for (const [attr, marker] of [['completed', 'completed'], ['active', 'active'], ['failed', 'failed']]) {
    for (const id of JSON.parse(host.dataset[attr] || '[]')) if (registry.get(id)) canvas.addMarker(id, marker);
  }
  host.dataset.rendered = 'true';
}

for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (event) => {
    if (!confirm(form.dataset.confirm)) event.preventDefault();
  });
}

const diagram = document.getElementById('diagram');
if (diagram) {
  drawDiagram(diagram).catch((e) => {
    diagram.textContent = `The diagram could not be drawn: ${e.message}`;
  });
}
