/** SPDX ids found in ocean data licences, with the spellings files use for them. */
const SPDX: Array<[string, RegExp]> = [
  ['CC-BY-4.0', /^(cc[- ]?by[- ]?4\.0|creative commons attribution 4\.0( international)?( license)?)$/i],
  ['CC-BY-SA-4.0', /^(cc[- ]?by[- ]?sa[- ]?4\.0)$/i],
  ['CC-BY-NC-4.0', /^(cc[- ]?by[- ]?nc[- ]?4\.0)$/i],
  ['CC-BY-3.0', /^(cc[- ]?by[- ]?3\.0)$/i],
  ['CC0-1.0', /^(cc0([- ]1\.0)?|cc[- ]zero)$/i],
  ['ODbL-1.0', /^odbl([- ]1\.0)?$/i],
  ['OGL-Canada-2.0', /^ogl[- ]canada[- ]2\.0$/i],
  ['OGL-UK-3.0', /^ogl[- ]uk[- ]3\.0$/i],
  ['Apache-2.0', /^apache[- ]2\.0$/i],
  ['MIT', /^mit$/i],
  ['etalab-2.0', /^etalab[- ]2\.0$/i],
];

export interface StacLicense {
  /** SPDX id, or 'proprietary' (STAC 1.0.0's word for anything else; 1.1 calls it 'other'). */
  license: string;
  /** Where the licence text is, when the file gives a URL. */
  url?: string;
  /** The licence statement as the file or config wrote it. */
  text?: string;
}

/** Map a free-text licence attribute (CF/ACDD `license`, or a config's) to STAC's license field. */
export function stacLicense(text: string | undefined): StacLicense {
  if (!text || !text.trim()) return { license: 'proprietary' };
  const t = text.trim();
  const url = /https?:\/\/[^\s<>"')]+/.exec(t)?.[0]?.replace(/[.,;]$/, '');
  const hit = SPDX.find(([id, re]) => id.toLowerCase() === t.toLowerCase() || re.test(t));
  const out: StacLicense = { license: hit ? hit[0] : 'proprietary', text: t };
  if (url) out.url = url;
  return out;
}
