/**
 * Sets `key` as the map's newest entry (moved to the end of its insertion order if it was there) and drops the oldest
 * entry once the map holds more than `max`: the bound every per-source or per-key cache and counter here keeps.
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}
