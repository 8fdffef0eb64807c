/**
 * The diagnoses a decoded log item can point to. Kept as plain names so the
 * model layer does not import the diagnoses layer above it.
 */
export type DiagnosisName = 'why-503' | 'why-502' | 'why-https-fails' | 'why-inbound-fails' | 'who-owns-443';

export const DIAGNOSES: readonly DiagnosisName[] = [
  'why-503',
  'why-502',
  'why-https-fails',
  'why-inbound-fails',
  'who-owns-443',
];
