// The DSF FHIR pages' script: the forms that need the browser (start a process from a draft Task,
// answer a user task's QuestionnaireResponse), following a running Task, and the search box. Every
// request goes to the FHIR API of this site with the browser's credentials (client certificate or
// session cookie); nothing is loaded from elsewhere. Text is put into the page with textContent only.
'use strict';

const PRACTITIONER_IDENTIFIER = 'http://dsf.dev/sid/practitioner-identifier';
const ORGANIZATION_IDENTIFIER = 'http://dsf.dev/sid/organization-identifier';
const BPMN_MESSAGE = 'http://dsf.dev/fhir/CodeSystem/bpmn-message';
/** Inputs the engine sets itself; the form shows them but does not let them change. */
const FIXED_INPUTS = ['message-name', 'business-key', 'correlation-key'];
/** QuestionnaireResponse items the engine uses to find the user task; kept as they are. */
const HIDDEN_ITEMS = ['business-key', 'user-task-id'];

const body = document.body;
const base = body.dataset.base;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c) e.append(c);
  return e;
}

function pageUrl(path) {
  const url = `${base}/${path}`;
  if (body.dataset.formatParam !== 'true') return url;
  return url + (url.includes('?') ? '&' : '?') + '_format=html';
}

async function fhir(method, path, resource, headers = {}) {
  const res = await fetch(`${base}/${path}`, {
    method,
    credentials: 'same-origin',
    // The session's CSRF token (cross-site-guard.ts) goes with every change.
    headers: { accept: 'application/fhir+json', ...(resource ? { 'content-type': 'application/fhir+json' } : {}), ...(method !== 'GET' && body.dataset.csrf ? { 'x-dsf-csrf': body.dataset.csrf } : {}), ...headers },
    body: resource ? JSON.stringify(resource) : undefined,
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, ok: res.ok, json, location: res.headers.get('location') };
}

/** The caller as the server knows it: requester of new Tasks, author of answers. */
function caller() {
  const email = body.dataset.userEmail;
  if (body.dataset.userKind === 'practitioner' && email) return { type: 'Practitioner', identifier: { system: PRACTITIONER_IDENTIFIER, value: email } };
  return { type: 'Organization', identifier: { system: ORGANIZATION_IDENTIFIER, value: body.dataset.userOrg } };
}

/** Shows an answer's OperationOutcome (or status) in the form, and marks the fields its issues name. */
function showOutcome(box, result, form) {
  box.replaceChildren();
  box.className = 'message error';
  const issues = result.json && result.json.resourceType === 'OperationOutcome' ? result.json.issue || [] : [];
  box.append(el('strong', { text: `The server refused this (HTTP ${result.status}).` }));
  const list = el('ul', { class: 'issues' });
  for (const i of issues) {
    list.append(el('li', { class: i.severity, text: `${i.diagnostics || (i.details && i.details.text) || i.code}${i.expression ? ` (${i.expression.join(', ')})` : ''}` }));
    for (const ex of [...(i.expression || []), ...(i.location || [])]) {
      for (const field of form.querySelectorAll('[data-link-id]')) if (ex.includes(`'${field.dataset.linkId}'`) || ex.includes(field.dataset.linkId)) field.classList.add('invalid');
    }
  }
  if (issues.length) box.append(list);
  box.scrollIntoView({ block: 'nearest' });
}

// ---- inputs by FHIR type ----------------------------------------------------------------------

const TYPE_INPUTS = {
  String: { type: 'text' },
  Markdown: { type: 'textarea' },
  Integer: { type: 'number', step: '1' },
  PositiveInt: { type: 'number', step: '1', min: '1' },
  UnsignedInt: { type: 'number', step: '1', min: '0' },
  Decimal: { type: 'number', step: 'any' },
  Date: { type: 'date' },
  DateTime: { type: 'datetime-local', step: '1' },
  Instant: { type: 'datetime-local', step: '1' },
  Time: { type: 'time', step: '1' },
  Url: { type: 'url' },
  Uri: { type: 'text' },
  Canonical: { type: 'text' },
  Id: { type: 'text' },
  Code: { type: 'text' },
};

function pad(n) {
  return String(n).padStart(2, '0');
}

/** A FHIR dateTime with the browser's offset from a datetime-local value. */
function toDateTime(local) {
  const d = new Date(local);
  if (Number.isNaN(d.getTime())) return local;
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

function fromDateTime(value) {
  const d = new Date(value);
  if (!value || Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * A control for a value of a FHIR type (String, Integer, Boolean, Coding, Reference, ...), with the
 * current value filled in; read() gives the value[x] object or undefined when empty.
 */
function valueControl(type, current, { id, required, readOnly, options, answerType = type }) {
  if (type === 'Boolean') {
    const name = `${id}-b`;
    const yes = el('input', { type: 'radio', name, value: 'true', id: `${id}-yes`, required, disabled: readOnly, checked: current === true });
    const no = el('input', { type: 'radio', name, value: 'false', id: `${id}-no`, disabled: readOnly, checked: current === false });
    const node = el('div', { class: 'choices' }, el('label', {}, yes, 'Yes'), el('label', {}, no, 'No'));
    return { node, read: () => (yes.checked ? { valueBoolean: true } : no.checked ? { valueBoolean: false } : undefined) };
  }
  if (type === 'Coding' && options) {
    const select = el('select', { id, required, disabled: readOnly }, el('option', { value: '', text: '—' }));
    options.forEach((o, i) => {
      const label = o.valueCoding ? o.valueCoding.display || o.valueCoding.code : String(o.valueString ?? o.valueInteger ?? o.valueDate ?? '');
      const selected = current && JSON.stringify(current) === JSON.stringify(o.valueCoding ?? o.valueString ?? o.valueInteger ?? o.valueDate);
      select.append(el('option', { value: String(i), text: label, selected }));
    });
    return {
      node: select,
      read: () => {
        if (select.value === '') return undefined;
        const o = options[Number(select.value)];
        const key = Object.keys(o).find((k) => k.startsWith('value'));
        return { [key]: o[key] };
      },
    };
  }
  if (type === 'Coding') {
    const system = el('input', { type: 'text', id, placeholder: 'system', value: current?.system ?? '', required, readonly: readOnly });
    const code = el('input', { type: 'text', placeholder: 'code', value: current?.code ?? '', required, readonly: readOnly, 'aria-label': 'code' });
    return {
      node: el('div', { class: 'pair' }, system, ' ', code),
      read: () => (code.value ? { valueCoding: { ...(current || {}), system: system.value || undefined, code: code.value } } : undefined),
    };
  }
  if (type === 'Reference') {
    const input = el('input', { type: 'text', id, placeholder: 'Type/id or URL', value: current?.reference ?? current?.identifier?.value ?? '', required, readonly: readOnly });
    return {
      node: input,
      read: () => {
        if (!input.value.trim()) return undefined;
        if (current?.identifier && !current.reference) return { valueReference: { ...current, identifier: { ...current.identifier, value: input.value.trim() } } };
        return { valueReference: { reference: input.value.trim() } };
      },
    };
  }
  const spec = TYPE_INPUTS[type] || { type: 'text' };
  if (spec.type === 'textarea') {
    const ta = el('textarea', { id, required, readonly: readOnly });
    ta.value = current ?? '';
    return { node: ta, read: () => (ta.value ? { [`value${answerType}`]: ta.value } : undefined) };
  }
  const shown = spec.type === 'datetime-local' ? fromDateTime(current) : current ?? '';
  const input = el('input', { ...spec, id, value: shown, required, readonly: readOnly });
  return {
    node: input,
    read: () => {
      const v = input.value;
      if (v === '') return undefined;
      if (spec.type === 'number') return { [`value${answerType}`]: Number(v) };
      if (spec.type === 'datetime-local') return { [`value${answerType}`]: toDateTime(v) };
      if (spec.type === 'time' && v.length === 5) return { [`value${answerType}`]: `${v}:00` };
      return { [`value${answerType}`]: v };
    },
  };
}

function valueKey(obj) {
  return Object.keys(obj || {}).find((k) => k.startsWith('value') && k.length > 5);
}

// ---- start a process from a draft Task --------------------------------------------------------

function startForm(draft) {
  const form = el('form', { class: 'form', id: 'start-form', novalidate: false });
  form.append(el('h2', { text: 'Start this process' }));
  form.append(el('p', { class: 'muted', text: `${draft.instantiatesCanonical || ''} — the new Task is sent to ${(draft.restriction?.recipient || []).map((r) => r.identifier?.value || r.reference).join(', ') || 'the recipient'} as requested by you.` }));
  const controls = [];
  (draft.input || []).forEach((input, i) => {
    const coding = (input.type?.coding || [])[0] || {};
    const key = valueKey(input);
    const type = key ? key.slice(5) : 'String';
    const fixed = coding.system === BPMN_MESSAGE && FIXED_INPUTS.includes(coding.code);
    const id = `input-${i}`;
    const control = valueControl(type, input[key], { id, required: !fixed, readOnly: fixed });
    controls.push({ input, control, fixed });
    form.append(
      el('div', { class: 'field', 'data-link-id': coding.code }, el('label', { for: id, text: coding.display || coding.code || `input ${i + 1}` }), control.node, el('span', { class: 'hint', text: `${coding.system || ''} · ${type}` })),
    );
  });
  const box = el('div', { role: 'status' });
  const submit = el('button', { type: 'submit', class: 'primary', text: 'Start process' });
  form.append(box, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const inputs = controls.map(({ input, control, fixed }) => {
      if (fixed) return input;
      const value = control.read();
      const { [valueKey(input)]: _old, ...rest } = input;
      return value ? { ...rest, ...value } : undefined;
    });
    const { id: _id, identifier: _identifier, meta, text: _text, ...rest } = draft;
    const task = {
      ...rest,
      meta: meta?.profile ? { profile: meta.profile } : undefined,
      status: 'requested',
      authoredOn: new Date().toISOString(),
      requester: caller(),
      input: inputs.filter(Boolean),
    };
    submit.disabled = true;
    box.className = 'message';
    box.textContent = 'Sending…';
    try {
      const result = await fhir('POST', 'Task', task, { prefer: 'return=representation' });
      if (result.ok && result.json?.id) {
        location.assign(pageUrl(`Task/${result.json.id}`));
        return;
      }
      showOutcome(box, result, form);
    } catch (e) {
      box.className = 'message error';
      box.textContent = `Could not reach the server: ${e.message}`;
    }
    submit.disabled = false;
  });
  return form;
}

/** Replaces the page's content with the server's current page (no navigation), then sets up its forms again. */
async function refreshPage() {
  const res = await fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } });
  const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
  const main = doc.querySelector('main');
  const data = doc.getElementById('dsf-resource');
  if (!main || !data) return location.reload();
  document.querySelector('main').replaceWith(main);
  document.getElementById('dsf-resource').textContent = data.textContent;
  setUp();
}

/** A requested or in-progress Task: the page updates when it changes, until it ends (polls at most 10 minutes). */
function followTask(task) {
  const note = el('p', { class: 'message', text: `Task ${task.status}: following it, this page updates when it changes.` });
  document.getElementById('dsf-form').append(note);
  let polls = 0;
  const timer = setInterval(async () => {
    if (++polls > 300) {
      clearInterval(timer);
      note.textContent = 'Stopped following this Task; reload to see its state.';
      return;
    }
    try {
      const r = await fhir('GET', `Task/${task.id}`);
      if (r.ok && r.json?.meta?.versionId !== task.meta?.versionId) {
        clearInterval(timer);
        await refreshPage();
      }
    } catch {
      // a missed poll is retried by the next one
    }
  }, 2000);
}

// ---- answer a user task -----------------------------------------------------------------------

/** Questionnaire item type -> [control type, answer value[x] suffix] (R4 answers have no valueMarkdown or valueUrl). */
const ITEM_TYPES = {
  string: ['String', 'String'],
  text: ['Markdown', 'String'],
  integer: ['Integer', 'Integer'],
  decimal: ['Decimal', 'Decimal'],
  date: ['Date', 'Date'],
  dateTime: ['DateTime', 'DateTime'],
  time: ['Time', 'Time'],
  url: ['Url', 'Uri'],
  reference: ['Reference', 'Reference'],
  boolean: ['Boolean', 'Boolean'],
  choice: ['Coding', 'Coding'],
  'open-choice': ['Coding', 'Coding'],
};

/** A field (or fieldset for a group) per Questionnaire item, filled from the response's answers. */
function itemFields(items, answers, controls, prefix) {
  return (items || []).map((item, i) => {
    const id = `${prefix}-${i}`;
    const current = answers.get(item.linkId);
    // The process may have written this request's details into the response's item texts (as the
    // reference's user task listeners do): show those rather than the Questionnaire's generic text.
    const text = current?.text || item.text;
    if (item.type === 'display') return el('p', { class: 'display', 'data-link-id': item.linkId, text: text || '' });
    if (item.type === 'group') {
      return el('fieldset', { 'data-link-id': item.linkId }, el('legend', { text: text || item.linkId }), itemFields(item.item, answers, controls, id));
    }
    if (HIDDEN_ITEMS.includes(item.linkId)) {
      controls.push({ item, read: () => current?.answer?.[0] });
      return null;
    }
    const [type, answerType] = ITEM_TYPES[item.type] || ['String', 'String'];
    // The engine fills every item of a new response with a placeholder answer: never the user's answer, so not shown.
    const control = valueControl(type, undefined, { id, required: item.required, options: item.answerOption, answerType });
    controls.push({ item, read: () => control.read() });
    const label = el('label', { for: id }, text || item.linkId, item.required ? el('span', { class: 'req', text: ' *' }) : null);
    return el('div', { class: 'field', 'data-link-id': item.linkId }, label, control.node);
  });
}

function answersByLinkId(items, out = new Map()) {
  for (const i of items || []) {
    out.set(i.linkId, i);
    answersByLinkId(i.item, out);
  }
  return out;
}

/**
 * The response's items in the Questionnaire's order and nesting, with the form's answers. Display
 * items the response carried stay, with their texts, so the answer records what the user was shown.
 */
function responseItems(items, values, previous) {
  const out = [];
  for (const item of items || []) {
    const text = previous.get(item.linkId)?.text || item.text;
    if (item.type === 'display') {
      if (previous.has(item.linkId)) out.push({ linkId: item.linkId, text });
      continue;
    }
    if (item.type === 'group') {
      const inner = responseItems(item.item, values, previous);
      if (inner.length) out.push({ linkId: item.linkId, text, item: inner });
      continue;
    }
    const answer = values.get(item.linkId);
    out.push(answer ? { linkId: item.linkId, text, answer: [answer] } : { linkId: item.linkId, text });
  }
  return out;
}

async function questionnaireForm(qr) {
  const host = document.getElementById('dsf-form');
  const [url, version] = String(qr.questionnaire || '').split('|');
  const search = await fhir('GET', `Questionnaire?url=${encodeURIComponent(url)}${version ? `&version=${encodeURIComponent(version)}` : ''}`);
  const questionnaire = search.json?.entry?.map((e) => e.resource).find((r) => r?.resourceType === 'Questionnaire');
  if (!questionnaire) {
    host.append(el('p', { class: 'message error', text: `The questionnaire ${qr.questionnaire} cannot be read (HTTP ${search.status}).` }));
    return;
  }
  const form = el('form', { class: 'form', id: 'answer-form' });
  form.append(el('h2', { text: questionnaire.title || 'Answer this user task' }));
  const controls = [];
  const previous = answersByLinkId(qr.item);
  form.append(...itemFields(questionnaire.item, previous, controls, 'item').filter(Boolean));
  const box = el('div', { role: 'status' });
  const submit = el('button', { type: 'submit', class: 'primary', text: 'Complete' });
  form.append(box, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const f of form.querySelectorAll('.invalid')) f.classList.remove('invalid');
    if (!form.reportValidity()) return;
    const values = new Map();
    for (const c of controls) {
      const v = c.read();
      if (v) values.set(c.item.linkId, v);
    }
    const answered = { ...qr, status: 'completed', authored: new Date().toISOString(), author: caller(), item: responseItems(questionnaire.item, values, previous) };
    submit.disabled = true;
    box.className = 'message';
    box.textContent = 'Sending…';
    try {
      const result = await fhir('PUT', `QuestionnaireResponse/${qr.id}`, answered, { 'if-match': `W/"${qr.meta?.versionId}"`, prefer: 'return=representation' });
      if (result.ok) {
        await refreshPage();
        return;
      }
      showOutcome(box, result, form);
    } catch (e) {
      box.className = 'message error';
      box.textContent = `Could not reach the server: ${e.message}`;
    }
    submit.disabled = false;
  });
  host.append(form);
}

// ---- search box ---------------------------------------------------------------------------------

function searchBox() {
  const form = document.querySelector('form.search');
  if (!form) return;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const query = form.querySelector('input').value.trim().replace(/^\?/, '');
    const path = form.getAttribute('action').slice(base.length + 1);
    location.assign(pageUrl(query ? `${path}?${query}` : path));
  });
}

function setUp() {
  searchBox();
  const data = document.getElementById('dsf-resource');
  if (!data) return;
  const resource = JSON.parse(data.textContent);
  const host = document.getElementById('dsf-form');
  if (resource.resourceType === 'Task' && resource.status === 'draft') host.append(startForm(resource));
  else if (resource.resourceType === 'Task' && ['requested', 'in-progress'].includes(resource.status)) followTask(resource);
  else if (resource.resourceType === 'QuestionnaireResponse' && resource.status === 'in-progress') questionnaireForm(resource);
}

setUp();
