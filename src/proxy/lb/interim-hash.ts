export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
export function slowStartFactor(sinceMs: number, nowMs: number, cfg: { windowMs: number; aggression: number; minWeightPercent: number }): number {
  const e = nowMs - sinceMs;
  if (e >= cfg.windowMs) return 1;
  return Math.max(cfg.minWeightPercent / 100, (e / cfg.windowMs) ** (1 / cfg.aggression));
}
