/**
 * The promotion gate. Challenger, champion and today's rules are scored on
 * the same time-based hold-out (rows after everything the challenger learned
 * from). The challenger is promoted only when all of these hold:
 *
 * 1. the hold-out has at least one exhaustion (without one, PR-AUC and
 *    recall are undefined: nothing can be judged);
 * 2. its PR-AUC beats every rule's (the design's bar: a model that does not
 *    beat a static threshold is not worth shipping);
 * 3. its PR-AUC beats the champion's by at least `minPrAucGain` (a gain
 *    inside the noise of one hold-out is not worth a fleet-wide rollout);
 * 4. its recall at its own operating point is not more than `maxRecallLoss`
 *    below the champion's at the champion's (a better ranking that warns
 *    about fewer exhaustions is not better for an operator).
 *
 * Without a usable champion (none, or one this build cannot load) rules 3
 * and 4 are skipped: the rules are then the only bar.
 */

/** What the gate needs to know of one contender. */
export interface ContenderFigures {
  prAuc: number | null;
  recall: number | null;
}

export interface PromotionInput {
  holdout: { rows: number; positives: number };
  challenger: ContenderFigures;
  /** Undefined when there is no champion to beat. */
  champion: ContenderFigures | undefined;
  rules: ReadonlyArray<ContenderFigures & { name: string }>;
}

export interface PromotionThresholds {
  minPrAucGain: number;
  maxRecallLoss: number;
}

export interface PromotionDecision {
  promote: boolean;
  /** One line an operator can act on. */
  reason: string;
}

export function decidePromotion(input: PromotionInput, thresholds: PromotionThresholds): PromotionDecision {
  const { challenger, champion } = input;
  if (input.holdout.positives === 0 || challenger.prAuc === null) {
    return {
      promote: false,
      reason: `no exhaustion in the hold-out (${input.holdout.rows} rows): nothing to judge`,
    };
  }
  const cPr = challenger.prAuc;
  const bestRule = input.rules
    .filter((r) => r.prAuc !== null)
    .reduce<(ContenderFigures & { name: string }) | undefined>(
      (best, r) => (best === undefined || r.prAuc! > best.prAuc! ? r : best),
      undefined,
    );
  if (bestRule && !(cPr > bestRule.prAuc!)) {
    return {
      promote: false,
      reason: `PR-AUC ${fmt(cPr)} does not beat the rule ${bestRule.name} (${fmt(bestRule.prAuc!)})`,
    };
  }
  if (!champion || champion.prAuc === null) {
    return {
      promote: true,
      reason: `no champion to beat; PR-AUC ${fmt(cPr)} beats every rule${bestRule ? ` (best ${bestRule.name} ${fmt(bestRule.prAuc!)})` : ''}`,
    };
  }
  const gain = cPr - champion.prAuc;
  if (!(gain >= thresholds.minPrAucGain)) {
    return {
      promote: false,
      reason: `PR-AUC ${fmt(cPr)} vs the champion's ${fmt(champion.prAuc)}: a gain of ${fmt(gain)}, under the ${fmt(thresholds.minPrAucGain)} required`,
    };
  }
  const cRecall = challenger.recall ?? 0;
  const championRecall = champion.recall ?? 0;
  if (cRecall < championRecall - thresholds.maxRecallLoss) {
    return {
      promote: false,
      reason: `recall ${fmt(cRecall)} at the operating point is below the champion's ${fmt(championRecall)} by more than ${fmt(thresholds.maxRecallLoss)}`,
    };
  }
  return {
    promote: true,
    reason: `PR-AUC ${fmt(cPr)} beats the champion's ${fmt(champion.prAuc)} by ${fmt(gain)} and every rule; recall ${fmt(cRecall)} vs ${fmt(championRecall)}`,
  };
}

function fmt(x: number): string {
  return x.toFixed(3);
}
