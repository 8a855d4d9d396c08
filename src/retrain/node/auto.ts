// Retraining on an alert, for the models listed in the `retrainOnAlert` setting: when a scoring run
// opens a drift alert or a label import opens a performance alert, a challenger is trained and kept
// as a proposal (never activated). At most one automatic proposal per champion version a day waits
// undecided; a retrain that cannot run (too few logged inputs, no recipe) is reported, and the work
// that raised the alert (the scoring run, the import) still succeeds.
import { OutpostError } from '../../common/errors.ts';
import { getModel } from '../../store/node/models.ts';
import { getSettings, type Store } from '../../store/node/store.ts';
import { retrain, type Proposal } from './retrain.ts';

export type AutoRetrainOutcome =
  | { ran: true; proposal: Proposal }
  | { ran: false; reason: string };

export function autoRetrain(store: Store, name: string, trigger: 'drift-alert' | 'performance-alert', detail: string, now = Date.now()): AutoRetrainOutcome | undefined {
  if (!getSettings(store).retrainOnAlert.includes(name)) return undefined;
  const champion = getModel(store, name);
  const pending = store.db.prepare("SELECT id FROM proposals WHERE model_name = ? AND champion_version = ? AND status = 'proposed' AND trigger != 'manual' AND created_at > ?")
    .get(name, champion.version, now - 86_400_000) as { id: string } | undefined;
  if (pending) return { ran: false, reason: `proposal ${pending.id} from an alert in the last day is still undecided` };
  try {
    return { ran: true, proposal: retrain(store, { model: name, trigger, triggerDetail: detail, now }) };
  } catch (e) {
    if (e instanceof OutpostError) return { ran: false, reason: e.message };
    throw e;
  }
}
