// A catalog over one emulator channel `ch` (one file, a.txt), indexed before the suite's tests
// and closed after them; the folder is not watched, so each test decides when the emulator
// rescans (and so when it pushes updates).
import { after, before } from 'node:test';
import { Catalog } from '../../src/catalog';
import { WorkerPool } from '../../src/telegram/worker-pool';
import { channelId, startFixture, type EmulatorFixture } from './emulator-fixture';

export interface IndexedChannel {
  readonly f: EmulatorFixture;
  readonly pool: WorkerPool;
  readonly catalog: Catalog;
  /** The -100… id of `ch`. */
  readonly ch: number;
}

/** Registers the suite's before/after hooks; call it inside `describe`, read it inside tests. */
export function indexedChannel(): IndexedChannel {
  let state: { f: EmulatorFixture; pool?: WorkerPool; catalog?: Catalog; ch?: number } | undefined;
  before(async () => {
    const f = await startFixture({ 'ch/a.txt': 5 }, { watch: false });
    state = { f };
    state.pool = await WorkerPool.create({ ...f.emu.config, cache: 'memory://' });
    state.catalog = await Catalog.open({ store: 'memory://', channels: f.emu.config.channels, pool: state.pool });
    state.ch = channelId(f, 'ch');
    await state.catalog.index(state.ch);
  });
  after(async () => {
    await state?.catalog?.close();
    await state?.pool?.close();
    await state?.f.close();
  });
  return {
    get f() {
      return state!.f;
    },
    get pool() {
      return state!.pool!;
    },
    get catalog() {
      return state!.catalog!;
    },
    get ch() {
      return state!.ch!;
    },
  };
}
