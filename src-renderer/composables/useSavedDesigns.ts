// The saved designs list: loaded once, kept live (a design saved in another window or from the CLI joins it),
// duplicate and delete.
import { onBeforeUnmount, onMounted, ref } from 'vue';
import type { Design } from '../../shared/api.js';
import { useApiCall } from './useApiCall.js';

export function useSavedDesigns() {
  const { api, attempt } = useApiCall();
  const saved = ref<Design[]>([]);
  async function load() {
    await attempt('designs', async () => {
      saved.value = await api.call('designs.list');
    });
  }
  async function duplicate(d: Design) {
    await attempt('duplicate failed', async () => {
      await api.call('designs.save', { name: `${d.name} copy`, blocks: d.blocks, training: d.training });
      await load();
    });
  }
  /** Asks first; resolves true when the design was deleted. */
  async function remove(d: Design): Promise<boolean> {
    if (!confirm(`Delete design “${d.name}”? Runs trained from it are kept.`)) return false;
    const ok = await attempt('delete failed', async () => {
      await api.call('designs.remove', d.id);
      return true;
    });
    if (ok) await load();
    return ok === true;
  }
  let off: (() => void) | null = null;
  onMounted(() => {
    off = api.on((e) => {
      if (e.type === 'data-changed' && e.what === 'designs') void load();
    });
    void load();
  });
  onBeforeUnmount(() => off?.());
  return { saved, load, duplicate, remove };
}
