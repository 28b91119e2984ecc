# The core statistics of analysis_plans/siegel2021.yaml in R: the baseline that
# benchmarks/bench_siegel.py times against the whole `ketastats run` (issue 15).
#
#   Rscript benchmarks/siegel2021_core.R [DATA_DIR]     (default ketastats/datasets/siegel2021)
#
# Reads the same packaged CSVs and computes what the plan computes, without output writing:
# derivations (changes from baseline, response / remission / CGI-I rules, FC session means,
# subject-level values, volumes / ICV), descriptives by visit, Wilson and Clopper-Pearson intervals,
# the afex RM-ANOVA (Greenhouse-Geisser, partial and generalized eta squared) with paired t post hoc
# tests versus baseline (Bonferroni), the day-1 paired t test, four lmer models with Satterthwaite
# and Kenward-Roger tests and emmeans contrasts, 15 Pearson correlations, 8 Student t tests,
# logistic regression with Wald and profile CIs, two-sample proportions (Newcombe via prop.test),
# and the Bonferroni / Holm families. Like the issue's baseline it leaves out the plan's 393-edge
# mass_mixed_model (R takes longer with it); `--mass` adds it (lmer per edge, Satterthwaite and
# residual df, BH and Bonferroni per term).
#
#   Rscript benchmarks/siegel2021_core.R [--mass] [DATA_DIR]
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(pbkrtest); library(afex); library(emmeans)
})
args <- commandArgs(trailingOnly = TRUE)
mass <- "--mass" %in% args
args <- setdiff(args, "--mass")
dir <- if (length(args)) args[1] else "ketastats/datasets/siegel2021"
rd <- function(name) read.csv(file.path(dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
participants <- rd("participants"); clinical <- rd("clinical"); imaging <- rd("imaging")
volumes <- rd("volumes"); controls <- rd("controls"); pharmacology <- rd("pharmacology")

# --- derivations ---
base <- clinical[clinical$visit == "baseline", c("participant_id", "madrs")]
names(base)[2] <- "madrs_base"
clinical <- merge(clinical, base, by = "participant_id", all.x = TRUE, sort = FALSE)
clinical$madrs_change <- clinical$madrs - clinical$madrs_base
clinical$madrs_pct_change <- 100 * clinical$madrs_change / clinical$madrs_base
clinical$responder <- clinical$madrs_pct_change <= -50
clinical$remitter <- clinical$madrs < 10
clinical$cgi_improved <- clinical$cgi_i <= 2
fc_cols <- c("fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual")
fc_sessions <- aggregate(imaging[fc_cols], imaging[c("participant_id", "time")], mean)
fc_sessions$time_post <- as.numeric(fc_sessions$time == "post")
at <- function(visit, column) {
  rows <- clinical[clinical$visit == visit, ]
  setNames(rows[[column]], rows$participant_id)
}
r2 <- at("week2", "responder")
fc_sessions$responder_2wk <- factor(r2[fc_sessions$participant_id], levels = c(FALSE, TRUE))
participants$madrs_change_2wk <- at("week2", "madrs_change")[participants$participant_id]
participants$madrs_change_day1 <- at("day1", "madrs_change")[participants$participant_id]
participants$madrs_change_8wk <- at("week8", "madrs_change")[participants$participant_id]
for (v in c("hippocampus_l", "hippocampus_r", "amygdala_l", "amygdala_r", "nacc_l", "nacc_r"))
  volumes[[paste0(v, "_icv")]] <- volumes[[v]] / volumes$icv
volumes$madrs_change_2wk <- participants$madrs_change_2wk[match(volumes$participant_id, participants$participant_id)]
pharmacology$madrs_change_2wk <- participants$madrs_change_2wk[match(pharmacology$participant_id,
                                                                      participants$participant_id)]
per_protocol <- participants$participant_id[participants$completed_infusion %in% c(TRUE, "true", "True")]
pp <- clinical[clinical$participant_id %in% per_protocol, ]

# --- descriptives ---
describe <- function(x) c(n = sum(!is.na(x)), mean = mean(x, na.rm = TRUE), sd = sd(x, na.rm = TRUE),
                          median = median(x, na.rm = TRUE), q = quantile(x, c(.25, .75), na.rm = TRUE),
                          min = min(x, na.rm = TRUE), max = max(x, na.rm = TRUE))
d1 <- tapply(clinical$madrs, clinical$visit, describe)
d2 <- lapply(c("madrs", "madrs_change"), function(o) tapply(pp[[o]], pp$visit, describe))

# --- proportions: Wilson and Clopper-Pearson ---
props <- list()
for (o in c("responder", "remitter", "cgi_improved")) for (v in setdiff(unique(pp$visit), "baseline")) {
  x <- pp[[o]][pp$visit == v]; x <- x[!is.na(x)]
  if (length(x)) props[[paste(o, v)]] <- c(prop.test(sum(x), length(x), correct = FALSE)$conf.int,
                                           binom.test(sum(x), length(x))$conf.int)
}

# --- RM-ANOVA (afex), post hoc paired t vs baseline, Bonferroni ---
visits <- c("baseline", "day1", "week2", "week8")
rm <- pp[pp$visit %in% visits & !is.na(pp$madrs), c("participant_id", "visit", "madrs")]
complete <- names(which(table(rm$participant_id) == length(visits)))
rm <- rm[rm$participant_id %in% complete, ]
rm$visit <- factor(rm$visit, levels = visits)
fit <- suppressMessages(afex::aov_ez("participant_id", "madrs", rm, within = "visit",
                                     anova_table = list(correction = "GG", es = c("pes", "ges"))))
aov_table <- nice(fit)
wide <- reshape(rm, idvar = "participant_id", timevar = "visit", direction = "wide")
post <- sapply(visits[-1], function(v) {
  d <- wide[[paste0("madrs.", v)]] - wide$madrs.baseline
  t <- t.test(wide[[paste0("madrs.", v)]], wide$madrs.baseline, paired = TRUE)
  c(t$statistic, t$p.value, dz = mean(d) / sd(d))
})
post_adj <- p.adjust(post[2, ], "bonferroni")
day1 <- pp[pp$visit %in% c("day1", "baseline") & !is.na(pp$madrs), ]
pairs <- reshape(day1[c("participant_id", "visit", "madrs")], idvar = "participant_id", timevar = "visit",
                 direction = "wide")
pairs <- pairs[complete.cases(pairs), ]
paired <- t.test(pairs$madrs.day1, pairs$madrs.baseline, paired = TRUE)

# --- four mixed models: Satterthwaite, Kenward-Roger, emmeans ---
models <- lapply(fc_cols, function(o) {
  f <- as.formula(paste(o, "~ time_post + time_post:responder_2wk + (1 | participant_id)"))
  m <- lmerTest::lmer(f, data = fc_sessions, REML = TRUE)
  list(satterthwaite = coef(summary(m, ddf = "Satterthwaite")),
       kenward_roger = coef(summary(m, ddf = "Kenward-Roger")),
       anova = anova(m, ddf = "Satterthwaite"),
       emmeans = summary(pairs(emmeans(m, ~ time_post | responder_2wk, at = list(time_post = c(0, 1)), nesting = NULL),
                               reverse = TRUE), infer = TRUE))
})

# --- correlations ---
cors <- c(
  lapply(grep("_icv$", names(volumes), value = TRUE), function(x) cor.test(volumes[[x]], volumes$madrs_change_2wk)),
  lapply(c("madrs_change_day1", "madrs_change_2wk", "madrs_change_8wk"),
         function(o) cor.test(participants$bprs_positive_mean, participants[[o]])),
  lapply(c("ketamine_ng_ml", "s_ketamine_ng_ml", "r_ketamine_ng_ml", "norketamine_ng_ml", "s_norketamine_ng_ml",
           "r_norketamine_ng_ml"), function(x) cor.test(pharmacology[[x]], pharmacology$madrs_change_2wk)))

# --- t tests: patients (two scans averaged) vs controls ---
ctrl <- aggregate(controls[fc_cols], controls["control_id"], mean)
ttests <- unlist(lapply(c("pre", "post"), function(tm) {
  pat <- aggregate(imaging[imaging$time == tm, fc_cols], imaging[imaging$time == tm, "participant_id", drop = FALSE],
                   mean)
  lapply(fc_cols, function(o) t.test(pat[[o]], ctrl[[o]], var.equal = TRUE))
}), recursive = FALSE)

# --- logistic regression, Wald and profile CIs ---
pharmacology$nausea <- as.numeric(pharmacology$nausea %in% c(TRUE, "true", "True", 1))
glm_fit <- glm(nausea ~ ketamine_ng_ml, family = binomial, data = pharmacology)
glm_ci <- list(wald = confint.default(glm_fit), profile = suppressMessages(confint(glm_fit)))

# --- week-8 response by week-2 response ---
w8 <- clinical[clinical$visit == "week8" & !is.na(clinical$responder), ]
w8$r2 <- r2[w8$participant_id]
tab <- table(factor(w8$r2, levels = c(TRUE, FALSE)), factor(w8$responder, levels = c(TRUE, FALSE)))
gp <- list(prop.test(tab, correct = FALSE), fisher.test(tab))

# --- multiplicity families ---
primary <- c(summary(fit)$univariate.tests[2, 6])
for (m in models[1:3]) primary <- c(primary, m$satterthwaite[2:3, 5])
families <- list(primary = pmin(1, primary * 8), t = p.adjust(sapply(ttests, `[[`, "p.value"), "holm"),
                 volumes = p.adjust(sapply(cors[1:6], `[[`, "p.value"), "holm"))
if (mass) {
  connectome <- rd("connectome_sgacc")
  connectome$time_post <- as.numeric(connectome$time == "post")
  connectome$responder_2wk <- factor(r2[connectome$participant_id], levels = c(FALSE, TRUE))
  edges <- lapply(split(connectome, connectome$edge), function(d) {
    m <- suppressMessages(lmerTest::lmer(fc ~ time_post + time_post:responder_2wk + (1 | participant_id), data = d,
                                         REML = TRUE))
    s <- coef(summary(m, ddf = "Satterthwaite"))
    residual_p <- 2 * pt(-abs(s[, "t value"]), nrow(d) - nrow(s))
    cbind(s, residual_p)
  })
  p_time <- sapply(edges, function(e) e[2, 5])
  mass_adjusted <- list(p.adjust(p_time, "BH"), p.adjust(p_time, "bonferroni"))
}
cat("ok", length(props), length(models), length(cors), length(ttests), "\n")
