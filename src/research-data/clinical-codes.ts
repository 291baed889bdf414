// The code systems and codes the synthetic data uses: ICD-10-GM diagnoses with a rough share of the
// population that has them, and LOINC measurements with their UCUM unit and a plausible value range
// (for patients with and without a related diagnosis).

export const ICD10GM_SYSTEM = 'http://fhir.de/CodeSystem/bfarm/icd-10-gm';
export const ICD10GM_VERSION = '2024';
export const LOINC_SYSTEM = 'http://loinc.org';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';
/** Patient identifiers of the synthetic data (per site: `<site>-<number>`). */
export const PATIENT_ID_SYSTEM = 'http://dsf-ts.dev/sid/synthetic-patient-id';
export const READ_ACCESS_TAG_SYSTEM = 'http://dsf.dev/fhir/CodeSystem/read-access-tag';

export interface Diagnosis {
  code: string;
  display: string;
  /** Share of patients with it (adults; before age and sex adjustments). */
  prevalence: number;
  onlySex?: 'female' | 'male';
  minAge?: number;
}

export const DIAGNOSES: readonly Diagnosis[] = [
  { code: 'I10.90', display: 'Essentielle Hypertonie, nicht näher bezeichnet', prevalence: 0.28, minAge: 25 },
  { code: 'E66.9', display: 'Adipositas, nicht näher bezeichnet', prevalence: 0.16, minAge: 10 },
  { code: 'E11.9', display: 'Diabetes mellitus, Typ 2, ohne Komplikationen', prevalence: 0.09, minAge: 30 },
  { code: 'F32.9', display: 'Depressive Episode, nicht näher bezeichnet', prevalence: 0.08, minAge: 12 },
  { code: 'J45.9', display: 'Asthma bronchiale, nicht näher bezeichnet', prevalence: 0.06 },
  { code: 'N18.3', display: 'Chronische Nierenkrankheit, Stadium 3', prevalence: 0.04, minAge: 45 },
  { code: 'I21.9', display: 'Akuter Myokardinfarkt, nicht näher bezeichnet', prevalence: 0.02, minAge: 40 },
  { code: 'C50.9', display: 'Bösartige Neubildung: Brustdrüse, nicht näher bezeichnet', prevalence: 0.012, onlySex: 'female', minAge: 30 },
  { code: 'C34.9', display: 'Bösartige Neubildung: Bronchus oder Lunge, nicht näher bezeichnet', prevalence: 0.005, minAge: 45 },
  { code: 'G35.9', display: 'Multiple Sklerose, nicht näher bezeichnet', prevalence: 0.003, minAge: 18 },
];

export interface Measurement {
  code: string;
  display: string;
  unit: string;
  category: 'laboratory' | 'vital-signs';
  decimals: number;
  /** Normal distribution of the value for a patient without / with the related diagnosis. */
  normal: { mean: number; sd: number };
  affected?: { diagnosis: string; mean: number; sd: number };
  min: number;
  max: number;
  /** Share of patients measured. */
  share: number;
}

export const MEASUREMENTS: readonly Measurement[] = [
  { code: '4548-4', display: 'Hemoglobin A1c/Hemoglobin.total in Blood', unit: '%', category: 'laboratory', decimals: 1, normal: { mean: 5.4, sd: 0.4 }, affected: { diagnosis: 'E11.9', mean: 7.6, sd: 1.2 }, min: 3.8, max: 14, share: 0.45 },
  { code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma', unit: 'mg/dL', category: 'laboratory', decimals: 0, normal: { mean: 92, sd: 12 }, affected: { diagnosis: 'E11.9', mean: 160, sd: 40 }, min: 50, max: 450, share: 0.6 },
  { code: '39156-5', display: 'Body mass index (BMI) [Ratio]', unit: 'kg/m2', category: 'vital-signs', decimals: 1, normal: { mean: 24.5, sd: 3 }, affected: { diagnosis: 'E66.9', mean: 34, sd: 4 }, min: 14, max: 60, share: 0.7 },
  { code: '8480-6', display: 'Systolic blood pressure', unit: 'mm[Hg]', category: 'vital-signs', decimals: 0, normal: { mean: 122, sd: 11 }, affected: { diagnosis: 'I10.90', mean: 148, sd: 14 }, min: 80, max: 230, share: 0.8 },
  { code: '2160-0', display: 'Creatinine [Mass/volume] in Serum or Plasma', unit: 'mg/dL', category: 'laboratory', decimals: 2, normal: { mean: 0.9, sd: 0.18 }, affected: { diagnosis: 'N18.3', mean: 1.9, sd: 0.4 }, min: 0.3, max: 8, share: 0.55 },
  { code: '718-7', display: 'Hemoglobin [Mass/volume] in Blood', unit: 'g/dL', category: 'laboratory', decimals: 1, normal: { mean: 14, sd: 1.3 }, min: 6, max: 20, share: 0.6 },
];

/** The MII broad consent policy and the provision code for using medical data in research (facts of the MII consent module). */
export const MII_CONSENT = {
  policyUri: 'urn:oid:2.16.840.1.113883.3.1937.777.24.2.1790',
  provisionSystem: 'urn:oid:2.16.840.1.113883.3.1937.777.24.5.3',
  researchUseCode: '2.16.840.1.113883.3.1937.777.24.5.3.8',
  researchUseDisplay: 'MDAT wissenschaftlich nutzen EU DSGVO NIVEAU',
};

export const FAMILY_NAMES = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Schäfer', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Schwarz', 'Zimmermann', 'Braun', 'Krüger', 'Hofmann', 'Hartmann', 'Lange', 'Schmitt', 'Werner', 'Schmitz', 'Krause', 'Meier', 'Lehmann', 'Schmid', 'Schulze', 'Maier', 'Köhler', 'Herrmann', 'König', 'Walter', 'Mayer', 'Huber', 'Kaiser', 'Fuchs', 'Peters', 'Lang', 'Scholz', 'Möller', 'Weiß', 'Jung', 'Hahn', 'Vogel', 'Yilmaz', 'Kaya', 'Nowak', 'Kowalski', 'Popescu'];
export const GIVEN_NAMES_FEMALE = ['Anna', 'Maria', 'Ursula', 'Monika', 'Petra', 'Elisabeth', 'Sabine', 'Renate', 'Helga', 'Karin', 'Brigitte', 'Ingrid', 'Erika', 'Andrea', 'Gisela', 'Claudia', 'Susanne', 'Gabriele', 'Christa', 'Julia', 'Laura', 'Lea', 'Sophie', 'Emma', 'Mia', 'Hannah', 'Lena', 'Leonie', 'Sarah', 'Katharina', 'Ayse', 'Fatma', 'Elif'];
export const GIVEN_NAMES_MALE = ['Peter', 'Michael', 'Thomas', 'Andreas', 'Wolfgang', 'Klaus', 'Jürgen', 'Günter', 'Stefan', 'Christian', 'Uwe', 'Werner', 'Horst', 'Frank', 'Dieter', 'Manfred', 'Gerhard', 'Hans', 'Bernd', 'Matthias', 'Lukas', 'Leon', 'Finn', 'Jonas', 'Paul', 'Felix', 'Noah', 'Elias', 'Ben', 'Maximilian', 'Mehmet', 'Mustafa', 'Ali'];
