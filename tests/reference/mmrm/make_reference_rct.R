# Reference for the primary analysis of analysis_plans/ketamine_placebo_rct.yaml (analysis madrs_mmrm)
# on the shipped synthetic trial. Run from the project root:
#   Rscript tests/reference/mmrm/make_reference_rct.R
# Same derivations as the plan: madrs_change = madrs - madrs at baseline; madrs_baseline; the arm
# from participants.csv; 8 post-baseline visits; mmrm 0.3.18 (optimizer nlminb), KR with the
# KR-linear covariance (SAS DDFM=KR for TYPE=UN), emmeans by visit, mmrm's type-III Anova.
# Also: proportional_reference.csv (emmeans weights = "proportional" on fev_data) and
# empirical_satterthwaite_reference.csv (Satterthwaite df with the empirical covariance).
suppressMessages({library(mmrm); library(emmeans)})
here <- "tests/reference/mmrm"
src <- "ketastats/datasets/ketamine_placebo_rct"
r <- read.csv(file.path(src, "ratings.csv"))
p <- read.csv(file.path(src, "participants.csv"))
base <- r[r$visit == "baseline", c("participant_id", "madrs")]
names(base)[2] <- "madrs_baseline"
d <- merge(r, base, by = "participant_id", all.x = TRUE)
d <- merge(d, p[, c("participant_id", "arm")], by = "participant_id")
d$madrs_change <- d$madrs - d$madrs_baseline
visits <- c("h24", "tx_day8", "tx_day15", "tx_day23", "post_24h", "fu_week4", "fu_week8", "fu_week12")
d <- d[d$visit %in% visits, ]
d$visit <- factor(d$visit, levels = visits)
d$randomized_arm <- factor(d$arm, levels = c("placebo", "ketamine"))
d$participant_id <- factor(d$participant_id)
fit <- mmrm(madrs_change ~ madrs_baseline + randomized_arm * visit + madrs_baseline:visit +
              us(visit | participant_id), data = d, method = "Kenward-Roger",
            vcov = "Kenward-Roger-Linear", optimizer = "nlminb")
out <- list()
add <- function(kind, term, level = "", group = "", estimate = NA, std_error = NA, df = NA,
                df_denominator = NA, statistic = NA, p_value = NA)
  out[[length(out) + 1]] <<- data.frame(kind, term, level, group, estimate, std_error, df, df_denominator,
                                        statistic, p_value)
co <- summary(fit)$coefficients
for (i in seq_len(nrow(co))) add("fixed", rownames(co)[i], estimate = co[i, 1], std_error = co[i, 2],
                                 df = co[i, 3], statistic = co[i, 4], p_value = co[i, 5])
an <- mmrm:::Anova.mmrm(fit, type = "III")
for (i in seq_len(nrow(an))) add("joint", rownames(an)[i], df = an[i, "Df"], df_denominator = an[i, "Res.Df"],
                                 statistic = an[i, "F"], p_value = an[i, "Pr(>F)"])
em <- emmeans(fit, ~ randomized_arm | visit)
es <- as.data.frame(summary(em))
for (i in seq_len(nrow(es))) add("emmean", "randomized_arm", as.character(es$randomized_arm[i]),
                                 as.character(es$visit[i]), es$emmean[i], es$SE[i], es$df[i])
cs <- as.data.frame(summary(contrast(em, "trt.vs.ctrl"), infer = TRUE))
for (i in seq_len(nrow(cs))) add("contrast", "randomized_arm", as.character(cs$contrast[i]),
                                 as.character(cs$visit[i]), cs$estimate[i], cs$SE[i], cs$df[i],
                                 statistic = cs$t.ratio[i], p_value = cs$p.value[i])
add("loglik", "logLik", estimate = as.numeric(logLik(fit)))
add("aic", "AIC", estimate = AIC(fit)); add("bic", "BIC", estimate = BIC(fit))
add("n", "n_obs", estimate = component(fit, "n_obs")); add("n", "n_subjects", estimate = component(fit, "n_subjects"))
ref <- do.call(rbind, out)
ref[] <- lapply(ref, function(x) if (is.numeric(x)) sprintf("%.15g", x) else x)
write.csv(ref, file.path(here, "rct_reference.csv"), row.names = FALSE, na = "")

# LS-means with weights = "proportional" (emmeans; SAS LSMEANS / OM): fev_data, RACE and SEX averaged
# by their joint frequencies in the analysed rows.
fev <- mmrm::fev_data
fit <- mmrm(FEV1 ~ RACE + SEX + ARMCD * AVISIT + us(AVISIT | USUBJID), data = fev, method = "Kenward-Roger",
            vcov = "Kenward-Roger-Linear", optimizer = "nlminb")
em <- emmeans(fit, ~ ARMCD | AVISIT, weights = "proportional")
es <- as.data.frame(summary(em))
cs <- as.data.frame(summary(contrast(em, "trt.vs.ctrl"), infer = TRUE))
prop <- rbind(data.frame(kind = "emmean", level = as.character(es$ARMCD), group = as.character(es$AVISIT),
                         estimate = es$emmean, std_error = es$SE, df = es$df),
              data.frame(kind = "contrast", level = as.character(cs$contrast), group = as.character(cs$AVISIT),
                         estimate = cs$estimate, std_error = cs$SE, df = cs$df))
prop[] <- lapply(prop, function(x) if (is.numeric(x)) sprintf("%.15g", x) else x)
write.csv(prop, file.path(here, "proportional_reference.csv"), row.names = FALSE)

# Satterthwaite df with the empirical (sandwich) covariance: fev_data, every structure but the
# heterogeneous ante-dependence family (kept short); coefficients, type-III F and LS-mean contrasts.
emp <- list()
for (s in c("us", "cs", "ar1h", "toeph")) {
  f <- as.formula(sprintf("FEV1 ~ RACE + SEX + ARMCD * AVISIT + %s(AVISIT | USUBJID)", s))
  fit <- mmrm(f, data = fev, method = "Satterthwaite", vcov = "Empirical", optimizer = "nlminb")
  co <- summary(fit)$coefficients
  emp[[length(emp) + 1]] <- data.frame(structure = s, kind = "fixed", term = rownames(co), group = "",
    estimate = co[, 1], std_error = co[, 2], df = co[, 3], df_denominator = NA, statistic = co[, 4], p_value = co[, 5])
  an <- mmrm:::Anova.mmrm(fit, type = "III")
  emp[[length(emp) + 1]] <- data.frame(structure = s, kind = "joint", term = rownames(an), group = "",
    estimate = NA, std_error = NA, df = an$Df, df_denominator = an$Res.Df, statistic = an$F, p_value = an[["Pr(>F)"]])
  cs <- as.data.frame(summary(contrast(emmeans(fit, ~ ARMCD | AVISIT), "trt.vs.ctrl"), infer = TRUE))
  emp[[length(emp) + 1]] <- data.frame(structure = s, kind = "contrast", term = as.character(cs$contrast),
    group = as.character(cs$AVISIT), estimate = cs$estimate, std_error = cs$SE, df = cs$df, df_denominator = NA,
    statistic = cs$t.ratio, p_value = cs$p.value)
}
emp <- do.call(rbind, emp)
emp[] <- lapply(emp, function(x) if (is.numeric(x)) sprintf("%.15g", x) else x)
write.csv(emp, file.path(here, "empirical_satterthwaite_reference.csv"), row.names = FALSE, na = "")
