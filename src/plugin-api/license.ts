// The licence a process plugin declares; the BPE shows it and hands it to the plugin's services.
export type License = 'Apache2' | 'MIT' | 'Other';
