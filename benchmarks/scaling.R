# R side of benchmarks/bench_scaling.py (issue 15): the scaling plan's four analyses in lme4 /
# lmerTest / pbkrtest, afex and survival, on the CSVs that bench_scaling.py writes.
#
#   Rscript benchmarks/scaling.R DATA_DIR
#
# Prints one JSON object: CPU seconds (user + system, proc.time) of each analysis alone, after the
# packages are loaded and the data read (as the Python side times each analysis alone).
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(pbkrtest); library(afex); library(survival); library(jsonlite)
})
dir <- commandArgs(trailingOnly = TRUE)[1]
visits <- read.csv(file.path(dir, "visits.csv"), stringsAsFactors = FALSE)
participants <- read.csv(file.path(dir, "participants.csv"), stringsAsFactors = FALSE)
visits$arm <- factor(visits$arm, levels = c("placebo", "ketamine"))
visits$visit <- factor(visits$visit, levels = unique(visits$visit[order(visits$time)]))
participants$arm <- factor(participants$arm, levels = c("placebo", "ketamine"))
participants$event <- participants$event %in% c(TRUE, "true", "True")
cpu <- function(expr) {
  start <- proc.time()
  force(expr)
  used <- proc.time() - start
  unname(used[["user.self"]] + used[["sys.self"]])
}
seconds <- list(
  mixed_model_satterthwaite = cpu({
    m <- lmerTest::lmer(score ~ arm * time + (1 | participant_id), data = visits, REML = TRUE)
    list(coef(summary(m, ddf = "Satterthwaite")), anova(m, ddf = "Satterthwaite"))
  }),
  mixed_model_kenward_roger = cpu({
    m <- lmerTest::lmer(score ~ arm * time + (1 | participant_id), data = visits, REML = TRUE)
    list(coef(summary(m, ddf = "Kenward-Roger")), anova(m, ddf = "Kenward-Roger"))
  }),
  rm_anova = cpu({
    fit <- suppressMessages(afex::aov_ez("participant_id", "score", visits, within = "visit",
                                         anova_table = list(correction = "GG", es = c("pes", "ges"))))
    list(nice(fit), summary(fit))
  }),
  cox = cpu({
    fit <- coxph(Surv(time, event) ~ arm + age, data = participants, ties = "efron")
    list(summary(fit), cox.zph(fit, transform = "km"), cox.zph(fit, transform = "identity"), concordance(fit))
  })
)
cat(toJSON(seconds, auto_unbox = TRUE, digits = 6), "\n")
