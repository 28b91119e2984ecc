# Reference values for the ketamine vs ECT example plan (analysis_plans/ketamine_vs_ect.yaml), computed in R
# from the shipped synthetic CSV files (ketastats/datasets/ketamine_vs_ect/) with the plan's derivations
# written out by hand. Run from the project root:
#   Rscript tests/reference/ketamine_vs_ect/make_reference.R
# Writes tests/reference/ketamine_vs_ect/reference.json (and versions.txt). Read by
# tests/integration/test_ketamine_vs_ect_plan.py.
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(pbkrtest); library(emmeans); library(survival); library(jsonlite)
})
dir <- "ketastats/datasets/ketamine_vs_ect"
out <- "tests/reference/ketamine_vs_ect"
participants <- read.csv(file.path(dir, "participants.csv"), stringsAsFactors = FALSE)
ratings <- read.csv(file.path(dir, "ratings.csv"), stringsAsFactors = FALSE)
biomarkers <- read.csv(file.path(dir, "biomarkers.csv"), stringsAsFactors = FALSE)

participants$arm <- factor(participants$arm, levels = c("ect", "ketamine"))
ratings$visit <- factor(ratings$visit, levels = c("baseline", "tx3", "eot", "m1", "m3", "m6"))
ratings$arm <- participants$arm[match(ratings$participant_id, participants$participant_id)]
base <- ratings[ratings$visit == "baseline", c("participant_id", "hdrs17")]
ratings$hdrs_baseline <- base$hdrs17[match(ratings$participant_id, base$participant_id)]
ratings$hdrs_change <- ratings$hdrs17 - ratings$hdrs_baseline
ratings$responder <- 100 * ratings$hdrs_change / ratings$hdrs_baseline <= -50

# --- arm x visit linear mixed model, REML; ketamine - ECT by visit (Satterthwaite and Kenward-Roger) ---
fit <- lmer(hdrs17 ~ arm * visit + (1 | participant_id), data = ratings, REML = TRUE)
contrast_rows <- function(mode) {
  emm <- emmeans(fit, ~ arm | visit, lmer.df = mode)
  s <- as.data.frame(summary(pairs(emm, reverse = TRUE), infer = c(TRUE, TRUE)))
  lapply(seq_len(nrow(s)), function(i) list(visit = as.character(s$visit[i]), estimate = s$estimate[i],
       std_error = s$SE[i], df = s$df[i], statistic = s$t.ratio[i], p_value = s$p.value[i],
       conf_low = s$lower.CL[i], conf_high = s$upper.CL[i]))
}
coefs <- summary(fit)$coefficients
mixed <- list(
  fixed = lapply(seq_len(nrow(coefs)), function(i) list(term = rownames(coefs)[i], estimate = coefs[i, 1],
       std_error = coefs[i, 2], df = coefs[i, 3], statistic = coefs[i, 4], p_value = coefs[i, 5])),
  contrasts_satterthwaite = contrast_rows("satterthwaite"),
  contrasts_kenward_roger = contrast_rows("kenward-roger"),
  n_obs = nobs(fit))

# --- response at the end of the course: Fisher's exact test (ketamine vs ECT) ---
eot <- ratings[ratings$visit == "eot", ]
tab <- table(factor(eot$arm, levels = c("ketamine", "ect")), factor(eot$responder, levels = c(TRUE, FALSE)))
ft <- fisher.test(tab)
response <- list(count_ketamine = tab["ketamine", "TRUE"], n_ketamine = sum(tab["ketamine", ]),
                 count_ect = tab["ect", "TRUE"], n_ect = sum(tab["ect", ]),
                 odds_ratio = unname(ft$estimate), conf_low = ft$conf.int[1], conf_high = ft$conf.int[2],
                 p_value = ft$p.value)

# --- relapse among responders at the end of the course ---
responders <- eot$participant_id[eot$responder]
rel <- participants[participants$participant_id %in% responders, ]
sd <- survdiff(Surv(relapse_days, relapsed == "true") ~ arm, data = rel)
cox <- coxph(Surv(relapse_days, relapsed == "true") ~ arm + age, data = rel, ties = "efron")
cs <- summary(cox)
relapse <- list(
  n = nrow(rel), n_events = sum(rel$relapsed == "true"),
  logrank_chisq = sd$chisq, logrank_p = pchisq(sd$chisq, 1, lower.tail = FALSE),
  logrank_observed = setNames(as.list(sd$obs), c("ect", "ketamine")),
  logrank_expected = setNames(as.list(sd$exp), c("ect", "ketamine")),
  cox = lapply(seq_len(nrow(cs$coefficients)), function(i) list(term = rownames(cs$coefficients)[i],
       estimate = cs$coefficients[i, "coef"], std_error = cs$coefficients[i, "se(coef)"],
       hazard_ratio = cs$coefficients[i, "exp(coef)"], conf_low = cs$conf.int[i, "lower .95"],
       conf_high = cs$conf.int[i, "upper .95"], p_value = cs$coefficients[i, "Pr(>|z|)"])))

# --- IL-6 change vs HDRS-17 change, baseline to the end of the course ---
il6_base <- biomarkers[biomarkers$visit == "baseline", ]
il6_eot <- biomarkers[biomarkers$visit == "eot", ]
il6_change <- il6_eot$il6 - il6_base$il6[match(il6_eot$participant_id, il6_base$participant_id)]
names(il6_change) <- il6_eot$participant_id
hdrs_change <- setNames(eot$hdrs_change, eot$participant_id)
ids <- intersect(names(hdrs_change), names(il6_change))
ok <- ids[!is.na(hdrs_change[ids]) & !is.na(il6_change[ids])]
ct <- cor.test(il6_change[ok], hdrs_change[ok], method = "pearson")
correlation <- list(n = length(ok), estimate = unname(ct$estimate), conf_low = ct$conf.int[1],
                    conf_high = ct$conf.int[2], statistic = unname(ct$statistic), df = unname(ct$parameter),
                    p_value = ct$p.value)

write_json(list(mixed_model = mixed, response_eot = response, relapse = relapse, il6_vs_hdrs_change = correlation),
           file.path(out, "reference.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
writeLines(c(R.version.string, paste("lme4", packageVersion("lme4")), paste("lmerTest", packageVersion("lmerTest")),
             paste("pbkrtest", packageVersion("pbkrtest")), paste("emmeans", packageVersion("emmeans")),
             paste("survival", packageVersion("survival"))), file.path(out, "versions.txt"))
