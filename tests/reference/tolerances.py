"""Numerical tolerances for comparing ketastats with R reference values: one place for all.

Every test that compares against a file under ``tests/reference/`` takes its
tolerance from here, so a tolerance is chosen once, with its reason, and is easy
to review. Add one constant per kind of result, with a comment saying why that
value.

Tests take this module from the session fixture ``tolerances`` (``tests/conftest.py``)::

    def test_wilson_matches_r(tolerances):
        assert abs(lower - r_lower) <= tolerances.PROPORTION_CI_ATOL

or, where a value is needed at import time (module constants, helpers, ``parametrize``),
import it: ``from tests.reference import tolerances`` (pytest's importlib import mode makes
``tests`` importable). Which folder each tolerance serves: ``tests/reference/README.md``.
"""

# Binomial proportion confidence intervals (Wilson = prop.test(correct = FALSE),
# Clopper-Pearson = binom.test), absolute difference per bound.
# Why 1e-10: both are closed forms (a normal quantile plus arithmetic, or two Beta
# quantiles); the R reference is stored with 17 significant digits, so it is the
# exact R double. What remains is the difference between R's qnorm/qbeta and
# SciPy's quantile algorithms: about 1e-15 on the reference grid (max observed
# 1.2e-15). 1e-10 leaves five orders of magnitude for other platforms and library
# versions, yet is far below the 3-4 decimals a report shows and far below any
# real error: on the reference grid a continuity correction, a one-sided quantile or
# an off-by-one in a Beta shape parameter each move some bound by at least 1e-4.
PROPORTION_CI_ATOL = 1e-10

# --- Linear mixed models (ketastats.stats.lmm / satterthwaite / kenward_roger) ---
# Reference: tests/reference/lmm/reference.json (lme4 1.1-31, lmerTest 3.1-3,
# pbkrtest 0.5.2; every fit with bobyqa rhoend = 1e-12).
# Estimates, SEs, vcov (relative to sqrt(v_ii v_jj)), sigma, random-effect SDs,
# logLik / AIC / BIC, t, KR-adjusted vcov: 1e-6 relative. Observed max 2.2e-7 (vcov
# and vcovAdj of the REML random-slope sleepstudy fit). The residual is R's,
# not ours: bobyqa is derivative-free and stops when the REML criterion (~1.7e3)
# changes only at rounding level (R's theta is 2e-12 worse in the criterion); there
# the analytic gradient of the criterion is still ~1e-5 for the random-slope fits
# (ours: 1e-12), so R's theta is ~1e-7 from the optimum. Random-intercept fits
# agree to <= 3e-8.
LMM_ESTIMATE_RTOL = 1e-6
# theta (lme4's relative covariance factor, order 1) and random-effect correlations:
# absolute. Observed max 1.6e-7 (same cause as above).
LMM_THETA_ATOL = 1e-6
# Satterthwaite df (lmerTest, numDeriv Hessian of the deviance; here Richardson
# differences of the analytic gradient). Observed max 3e-7 relative; 1e-3 is the
# project's requirement (df enter p-values only through a t / F quantile).
LMM_SATTERTHWAITE_DF_RTOL = 1e-3
# Kenward-Roger df (pbkrtest closed forms). Observed max 1e-9 relative.
LMM_KENWARD_ROGER_DF_RTOL = 1e-2
# p-values: pass if within 1e-4 relative OR 1e-8 absolute. Observed max 1.1e-5
# relative (p = 1e-17 of the random-slope sleepstudy fits, from R's theta above).
LMM_P_RTOL = 1e-4
LMM_P_ATOL = 1e-8
# F statistics (Satterthwaite contestMD and KR KRmodcomp, scaled and unscaled) and
# the KR F scaling. Observed max 2.1e-7 relative.
LMM_F_RTOL = 1e-6

# --- Repeated-measures ANOVA, sphericity, paired t tests (rm_anova, paired_ttest) ---
# Reference: tests/reference/rm_anova_paired_ttest/rm_anova.json (afex 1.2-1, car 3.1-1, R 4.2.2).
# Closed forms (traces of small SSP matrices, eigenvalues, one determinant, t / F /
# chi-square tails): no optimiser, so agreement is at rounding level. Observed max
# relative differences: F, SS, eta squared, epsilons, corrected df 3.4e-15; Mauchly W
# 1.1e-14; p-values (uncorrected, GG / HF corrected, Mauchly) 4.2e-14; post-hoc and
# paired-t estimates, SEs, CIs, t, d_z 3.7e-15, their p-values 4.6e-15. The
# tolerances are the project's requirement, leaving 8 orders of magnitude for other
# BLAS / libm builds, while a wrong convention fails loudly: e.g. Mauchly's p with the
# textbook 3p instead of car's 3k moves the obk 'hour' p-value by 1.2 % relative.
RM_ANOVA_RTOL = 1e-6            # F, SS, df, epsilons, Mauchly W, eta squared
RM_ANOVA_P_RTOL = 1e-4          # p-values: within 1e-4 relative OR 1e-8 absolute
RM_ANOVA_P_ATOL = 1e-8
PAIRED_T_RTOL = 1e-6            # estimates, SEs, CIs, t, d_z (relative; absolute 1e-12 near 0)

# --- Survival: Kaplan-Meier, log-rank, Cox, cox.zph, concordance (kaplan_meier, logrank, cox) ---
# Reference: tests/reference/survival/survival.json (R 4.2.2, survival 3.5-3) on
# survival::lung, survival::ovarian, two toy sets and the synthetic ketamine trial.
# KM curves, Greenwood SEs, CIs, medians, landmark values, log-rank O / E / chi-square
# are closed forms: observed max 8e-15 relative. Cox coefficients: R stops Newton-
# Raphson at a relative log-likelihood change of 1e-9 while ketastats iterates to full
# convergence, so coefficients differ by up to 3.3e-9 relative (lung, Breslow), SEs by
# 7e-11; likelihood-ratio / Wald / score statistics 1e-13, cox.zph chi-squares 7e-10,
# concordance and its SE 0 (exact pair counts). The tolerances are the project's
# requirement; a wrong convention fails loudly: Breslow instead of Efron moves the lung
# coefficients by 0.13-0.23 % relative; the pre-3.0 cox.zph test (lifelines'
# proportional_hazard_test, km) gives chi-squares 0.029 / 2.16 / 2.43 for age / sex /
# ph.ecog where R 3.5 gives 0.188 / 2.31 / 2.05. (lifelines CoxPHFitter itself stops
# 3.6e-6 relative from R's lung coefficients, outside SURVIVAL_RTOL.)
SURVIVAL_RTOL = 1e-6            # survival estimates, SEs, CIs, medians, coefficients, HRs, O / E, C
SURVIVAL_TEST_RTOL = 1e-4       # test statistics and p-values (log-rank, LR, Wald, score, cox.zph)
SURVIVAL_ATOL = 1e-12           # absolute floor for values at or near 0 (e.g. a plain CI bound of 0)

# Associations and group comparisons (tests/reference/correlation_ttest_group_proportions_regression):
# cor.test, partial correlation,
# t.test with Cohen's d / Hedges' g, fisher.test, chisq.test, risk differences, lm, glm(binomial) with
# Wald / MASS profile intervals and drop1 LRTs. Relative difference per number (absolute below 1e-12).
# Why 1e-6 (the requirement): every quantity is either a closed form, an exactly reproduced R
# algorithm (fisher.test's uniroot iterations, AS 89, MASS's profile grid + FMM spline, glm.fit's IRLS
# iterations and stopping rule), or a root found to 1e-12; observed maxima are 1e-11 (noncentral-t
# intervals of d, where R's pnt warns "full precision may not have been achieved") and 2e-13
# elsewhere. 1e-6 catches every convention error (a df off by one moves a p-value by > 1e-3).
ASSOCIATION_RTOL = 1e-6
ASSOCIATION_ATOL = 1e-12

# MASS::confint.glm (interpolated profile) against the *exact* profile-likelihood root. They differ by
# construction (spline interpolation over a grid of 0.5-SE steps): up to ~2e-3 relative on the reference
# data (2.9e-3 for the intercept of a two-predictor model; ~1e-4 for slopes), as library notes section 5
# warns. ketastats reports MASS's number (ci_method "profile"); the exact root is compared with R's own
# exact root (uniroot over glm offset fits) at ASSOCIATION_RTOL, and this looser bound only documents how
# far MASS's approximation may be from it.
PROFILE_MASS_VS_EXACT_RTOL = 5e-3

# R p.adjust (tests/reference/p_adjust), absolute difference of adjusted p-values (the 1e-8).
# The adjustments are products, cumulative minima / maxima of the same doubles: observed 0 or 1 ulp.
P_ADJUST_ATOL = 1e-8

# --- Batched random-intercept models (ketastats.stats.lmm_batched, mass_mixed_model) ---
# Reference: tests/reference/mass_mixed_model/reference.json (lme4 1.1-31 + lmerTest 3.1-3 looped over
# 240 outcomes, bobyqa rhoend = 1e-12; 62 singular fits, 34 with theta exactly 0; participants with
# one, two or three scans). Estimates and SEs: 1e-6 relative to max(|value|, its SE) — the issue's
# 1e-6 relative, with the SE as the scale of an estimate near 0. Observed max 4.3e-8 (estimates) and
# 1.0e-8 (SEs); in plain relative terms one interaction estimate of -0.0012 (SE 0.33) differs by
# 2.3e-6 because R's theta stops 3e-8 short of the optimum (R's REML criterion there is 1e-13 above
# ours). Satterthwaite df: observed max 3.2e-6 relative (the requirement is 1e-3).
MASS_LMM_ESTIMATE_RTOL = 1e-6
MASS_LMM_SATTERTHWAITE_DF_RTOL = 1e-3
# theta (absolute; observed max 4.9e-7, same cause) and p-values (1e-4 relative or 1e-8 absolute).
MASS_LMM_THETA_ATOL = 1e-6
MASS_LMM_P_RTOL = 1e-4
MASS_LMM_P_ATOL = 1e-8

# --- Generated designs (tests/reference/lmm_designs: lme4's best of three tight fits) ---
# The acceptance: ketastats' logLik >= lme4's best - 1e-6 |logLik| (one-sided: ketastats may
# be *better* than R, never worse); estimates and SEs 1e-5 relative to max(|value|, SE), sigma 1e-5
# relative; Satterthwaite df 1e-3 and Kenward-Roger df 1e-2 relative (as for the named references).
# Looser than LMM_ESTIMATE_RTOL (1e-6) because on these designs R's best fit itself stops further
# from the optimum (derivative-free optimisers on flat, near-singular criteria); observed maxima are
# in the README of that folder.
LMM_DESIGN_LOGLIK_RTOL = 1e-6
LMM_DESIGN_ESTIMATE_RTOL = 1e-5
LMM_DESIGN_SATTERTHWAITE_DF_RTOL = 1e-3
LMM_DESIGN_KENWARD_ROGER_DF_RTOL = 1e-2

# --- Table 1 and participant flow (tests/reference/baseline_table, tests/reference/flow: base R) ---
# Means, SDs, medians and type-7 quartiles of at most 60 values, and percentages count / n: numpy and
# R sum in a different order only, so they agree to a few units in the last place (observed max
# relative difference 0 to 2e-16); 1e-12 leaves room for another BLAS / platform and nothing more.
# Counts (n, n_missing, count, stage counts) are integers and compared exactly; the printed cells
# (sprintf in R, str.format here) as text.
BASELINE_TABLE_RTOL = 1e-12

# --- MMRM (tests/reference/mmrm: R mmrm 0.3.18 with optimizer = "nlminb"; SAS PROC MIXED files) ---
# R's fits use nlminb (Newton with TMB's exact Hessian), ours BFGS + Newton polish with an analytic
# Hessian: both reach the optimum to ~1e-9 in theta, so the bounds hold with margin.
# Estimates: 1e-6 relative to max(|estimate|, SE) (an interaction near 0 is judged on the scale of its
# SE); SEs 1e-5; df 1e-3 (Satterthwaite / Kenward-Roger; residual and between-within df are
# integers); log-likelihood 1e-8 relative; theta 1e-5 absolute (a correlation parameter near a flat
# direction of the likelihood is the least determined number); p 1e-4 relative or 1e-10 absolute.
# Observed maxima are in tests/reference/mmrm/README.md.
MMRM_ESTIMATE_RTOL = 1e-6
MMRM_SE_RTOL = 1e-5
MMRM_DF_RTOL = 1e-3
MMRM_LOGLIK_RTOL = 1e-8
MMRM_THETA_ATOL = 1e-5
MMRM_P_RTOL = 1e-4
MMRM_P_ATOL = 1e-10
# SAS (mmrm's design/ddfm_covtype files, FEV1 ~ ARMCD): SAS stops at its own convergence criterion,
# short of the optimum R's nlminb and ketastats reach (its log-likelihood is lower); observed
# differences are up to 2.8e-5 (estimate), 1.2e-4 (SE), 4e-4 (df) relative, hence these bounds.
MMRM_SAS_ESTIMATE_RTOL = 1e-4
MMRM_SAS_SE_RTOL = 5e-4
MMRM_SAS_DF_RTOL = 1e-3

# --- Risk ratio (tests/reference/risk_ratio: base R from the definitions; PropCIs 0.3-0) ---
# Katz's limits are closed-form (exp of a log-scale Wald bound) and Koopman's are roots of the score
# statistic found to 1e-13 (here) and 1e-14 (R uniroot) on the log scale: observed max relative
# differences 5e-15 (Katz) and 2.5e-14 (Koopman). 1e-12 leaves room for another platform only.
RISK_RATIO_RTOL = 1e-12
# PropCIs::riskscoreci solves Koopman's equation in closed form (Nam's cubic, trigonometric roots):
# rounding in acos / cos leaves ~1e-10 (observed 9.4e-11) on tables without an all-event group.
RISK_RATIO_PROPCIS_RTOL = 1e-9
# ... but with x1 = n1 or x2 = n2 it walks phi in steps of a factor 1.0001 (and DescTools likewise), so
# its limit is up to 1e-4 from the root (observed 9.0e-5). PropCIs' lower limit at x1 = n1, x2 = 0
# (1 / p0 from the cubic) is not a root of the score equation (U < chi2 there: inside the interval);
# those tables are compared with the exact R root only.
RISK_RATIO_PROPCIS_STEP_RTOL = 2e-4

# --- Subgroup analysis (tests/reference/subgroups/, analysis `subgroups`) ---
# Reference: R 4.2 lm / confint / anova (F), glm(binomial) / confint.default / anova(test = "LRT"),
# prop.test Wilson limits for Newcombe's interval, on 120 generated designs and the ketamine vs
# ECT example, stored with 17 significant digits.
# Within-subgroup differences in means, t, p, t intervals and risk differences: closed forms
# (QR least squares, a t / normal quantile, Wilson roots). Observed max relative difference
# 2e-12 (a difference near 0 where QR rounding is relative to the means); 1e-9 leaves three
# orders for other BLAS / platforms and is far below any real error (a pooled vs unpooled SE,
# a z instead of a t quantile, or a Wald instead of a Newcombe bound each move values by > 1e-3).
SUBGROUP_RTOL = 1e-9
# Absolute floor for values that are 0 up to rounding (a log odds ratio or t statistic of an
# exactly null subgroup effect is ~1e-16 in R and here, so its relative difference is
# meaningless). Observed absolute differences of such values: < 1e-14.
SUBGROUP_ATOL = 1e-10
# Odds ratios, their SE (log scale), z, p and Wald limits from glm: ketastats.stats.glm.logistic
# reproduces glm.fit's iterations and stopping rule, so both stop at the same point; observed
# max relative difference 1e-13. 1e-8 is R's own convergence tolerance (relative deviance
# change), the right bound for anything computed from an iterated fit.
SUBGROUP_GLM_RTOL = 1e-8
# Interaction tests. F: closed form (two QR fits), observed 1.4e-11. LRT: deviance differences
# at glm.fit's stopping point, including designs with separation where the deviance is still
# moving toward its limit when R stops (by < 1e-8 relative per iteration); the same iterations
# here give observed absolute differences < 1e-9 in the statistic and 1e-10 relative in p.
# 1e-7 (relative, with SUBGROUP_ATOL for statistics near 0) bounds both with room for platforms.
SUBGROUP_INTERACTION_RTOL = 1e-7

# --- Tukey / Dunnett adjustment of contrasts (tests/reference/contrast_adjust: emmeans on lmer / mmrm) ---
# Estimates, SEs and df as the model tests (LMM_DESIGN_*, MMRM_*). Adjusted p-values and the critical value
# c of the simultaneous interval estimate ± c·SE are compared with R's precise values and with emmeans' printout.
# Tukey: scipy's studentized range and R's ptukey integrate the same density; the gap comes from the df
# (our Satterthwaite df vs lmerTest's numerical-Hessian df: up to 8.5e-5 relative on these designs, 1e-3
# allowed by LMM_DESIGN_SATTERTHWAITE_DF_RTOL): observed 1.5e-5 (p) and 5e-6 (c, against an exact uniroot
# qtukey and against emmeans' qtukey alike). Bounds: 1e-4 (p, absolute) and 5e-5 (c, relative).
# Dunnett: both sides are randomized integrals. Ours (2^14 lattice points x 12 shifts, fixed seed) has a
# 3-sigma error of about 1e-5; R's precise values (pmvt with 4e5 points, abseps 5e-6, set.seed(1); quantile by
# uniroot at tol 1e-6) about 5e-6 in p and, divided by the density of max|T| at c, up to ~1e-4 in c:
# observed 1.5e-5 (p) and 6.3e-5 (c, relative). Bounds: 5e-5 (p) and 2e-4 (c), below any decision-relevant
# difference. emmeans' printout uses pmvt / qmvt defaults (25,000 points, abseps 1e-3): observed 3.1e-4
# (p) and 2.1e-3 (c); compared at 2e-3 and 5e-3.
# The fits behind these rows are lmer's at its default optimizer stopping rule (not the tight fits of
# tests/reference/lmm_designs, where the fit itself is checked at 1e-5): estimates, SEs and df here agree to
# 3e-5 / 8.5e-5 relative (observed), and the mmrm us fit of the shipped data (21 covariance parameters,
# R built with an older TMB) to 1.2e-5: the fit columns are compared at 1e-4 (CONTRAST_ADJUST_FIT_RTOL).
CONTRAST_ADJUST_FIT_RTOL = 1e-4
CONTRAST_ADJUST_P_ATOL = {"tukey": 1e-4, "dunnett": 5e-5}
CONTRAST_ADJUST_CRITICAL_RTOL = {"tukey": 5e-5, "dunnett": 2e-4}
CONTRAST_ADJUST_EMMEANS_P_ATOL = {"tukey": 1e-4, "dunnett": 2e-3}
CONTRAST_ADJUST_EMMEANS_CRITICAL_RTOL = {"tukey": 5e-5, "dunnett": 5e-3}
