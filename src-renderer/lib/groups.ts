// Grouping runs W&B-style (the pure code is shared/groups.ts: the HTML reports group with it too).
export {
  aggregate,
  BAND_LABEL,
  BAND_MODES,
  DEFAULT_GROUP_BY,
  GROUP_FIELDS,
  groupFinals,
  groupRuns,
  groupSeries,
  groupingMerges,
  resolveGrouping,
  type BandMode,
  type GroupedSeries,
  type GroupFinal,
  type GroupStat,
  type RunGroup,
} from '../../shared/groups.js';
