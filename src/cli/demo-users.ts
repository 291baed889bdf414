// The local users of each demo site, as the reference's integration tests have them: a practitioner
// with the site's user role (DIC_USER, or TTP_USER at a TTP) and CRUD, search and history; a DSF_ADMIN;
// and a minimal user who may only start processes (create Task) and answer user tasks (read Tasks and
// questionnaires, update QuestionnaireResponses); at a research platform also a use-and-access committee
// member (UAC_USER). They are recognised by certificate thumbprint through the site's role
// configuration, written in the reference's DEV_DSF_FHIR_SERVER_ROLECONFIG format.

export const PRACTITIONER_ROLE_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/practitioner-role';

/** Password of the users' PKCS#12 files: demo certificates, not secrets. */
export const DEMO_USER_PKCS12_PASSWORD = 'password';

export interface DemoUser {
  /** Certificate file name: <site>-<role>. */
  name: string;
  email: string;
  /** What the user plays, for the README and the demo's output. */
  plays: string;
  dsfRoles: string[];
  practitionerRoles: string[];
}

/** DIC_USER at a data integration centre, TTP_USER at a trusted third party. */
function userRoleOf(site: string): string {
  return /TTP/i.test(site) ? 'TTP_USER' : 'DIC_USER';
}

const ALL_BUT_PERMANENT_DELETE = ['CREATE', 'READ', 'UPDATE', 'DELETE', 'SEARCH', 'HISTORY'];
const TASKS_AND_QUESTIONNAIRES = '[Task, Questionnaire, QuestionnaireResponse]';

export function demoUsers(site: string): DemoUser[] {
  const domain = `${site.toLowerCase().replaceAll('_', '-')}.dsf.test`;
  const userRole = userRoleOf(site);
  return [
    {
      name: `${site}-practitioner`,
      email: `practitioner@${domain}`,
      plays: `practitioner with ${userRole}`,
      dsfRoles: ALL_BUT_PERMANENT_DELETE,
      practitionerRoles: [userRole],
    },
    { name: `${site}-admin`, email: `admin@${domain}`, plays: 'DSF_ADMIN', dsfRoles: ALL_BUT_PERMANENT_DELETE, practitionerRoles: ['DSF_ADMIN'] },
    {
      name: `${site}-minimal`,
      email: `minimal@${domain}`,
      plays: `minimal user with ${userRole} (start processes, answer user tasks)`,
      dsfRoles: ['CREATE: [Task]', `READ: ${TASKS_AND_QUESTIONNAIRES}`, 'UPDATE: [QuestionnaireResponse]', `SEARCH: ${TASKS_AND_QUESTIONNAIRES}`, `HISTORY: ${TASKS_AND_QUESTIONNAIRES}`],
      practitionerRoles: [userRole],
    },
    // At the research platform: a member of the use-and-access committee, who answers the data-sharing
    // plugin's decision user task (practitioner-role UAC_USER); otherwise a minimal user.
    ...(/HRP/i.test(site)
      ? [
          {
            name: `${site}-committee`,
            email: `committee@${domain}`,
            plays: 'use-and-access committee member with UAC_USER (decides data-sharing requests)',
            dsfRoles: [`READ: ${TASKS_AND_QUESTIONNAIRES}`, 'UPDATE: [QuestionnaireResponse]', `SEARCH: ${TASKS_AND_QUESTIONNAIRES}`, `HISTORY: ${TASKS_AND_QUESTIONNAIRES}`],
            practitionerRoles: ['UAC_USER'],
          },
        ]
      : []),
  ];
}

/** The role configuration YAML of a site's users, matched by certificate thumbprint and e-mail. */
export function demoRoleConfig(users: (DemoUser & { thumbprint: string })[]): string {
  const rules = users.map((u) =>
    [
      `- ${u.name}:`,
      `    thumbprint: ${u.thumbprint}`,
      `    email: ${u.email}`,
      `    dsf-role:`,
      ...u.dsfRoles.map((r) => `      - ${r}`),
      `    practitioner-role:`,
      ...u.practitionerRoles.map((r) => `      - ${PRACTITIONER_ROLE_SYSTEM}|${r}`),
    ].join('\n'),
  );
  return `# Local users of this demo site (written by dsf demo)\n${rules.join('\n')}\n`;
}

/** The BPE role configuration YAML (DEV_DSF_BPE_SERVER_ROLECONFIG): the DSF_ADMIN users get the BPE's ADMIN role (its web view). */
export function demoBpeRoleConfig(users: (DemoUser & { thumbprint: string })[]): string {
  const admins = users.filter((u) => u.practitionerRoles.includes('DSF_ADMIN'));
  const rules = admins.map((u) => [`- ${u.name}:`, `    thumbprint: ${u.thumbprint}`, `    email: ${u.email}`, `    dsf-role:`, `      - ADMIN`].join('\n'));
  return `# Users of this demo site's BPE web view (written by dsf demo)\n${rules.join('\n')}\n`;
}
