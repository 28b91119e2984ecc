#!/usr/bin/env Rscript
# Reference values for the `mixed_model` analysis type (ketastats/analyses/mixed_model.py):
# type-III F tests (lmerTest::anova) and estimated marginal means / contrasts (emmeans), with
# Satterthwaite and Kenward-Roger df. (Coefficient tables, variance components and the df kernels
# are compared in tests/reference/lmm/.)
#
# Run from the project root:
#     Rscript tests/reference/mixed_model/make_reference.R
# Writes, next to this script: reference.csv (one row per reported number set), the datasets
# used (orthodont.csv, sleepstudy.csv) and versions.txt. Numbers are written with 17
# significant digits (sprintf("%.17g")) so every double round-trips.
suppressPackageStartupMessages({library(lme4); library(lmerTest); library(emmeans); library(pbkrtest)})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
out <- if (length(file_arg) == 1L) dirname(normalizePath(file_arg)) else "tests/reference/mixed_model"
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
g <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))

orth <- as.data.frame(nlme::Orthodont)
orth <- data.frame(subject = as.character(orth$Subject), age = orth$age, sex = as.character(orth$Sex),
                   distance = orth$distance)
orth$age_f <- factor(orth$age)
orth$sex <- factor(orth$sex, levels = c("Male", "Female"))
sleep <- data.frame(subject = as.character(lme4::sleepstudy$Subject), days = lme4::sleepstudy$Days,
                    reaction = lme4::sleepstudy$Reaction)
sleep$days_f <- factor(sleep$days)
siegel <- read.csv(file.path(dirname(out), "lmm", "siegel_fc.csv"))

rows <- list()
add <- function(case, kind, term, level, contrast, group, ddf, est, se, df, df_den, stat, p) {
  rows[[length(rows) + 1L]] <<- data.frame(case = case, kind = kind, term = term, level = level,
    contrast = contrast, group = group, df_method = ddf, estimate = g(est), std_error = g(se),
    df = g(df), df_denominator = g(df_den), statistic = g(stat), p_value = g(p))
}
ddfs <- c(satterthwaite = "Satterthwaite", kenward_roger = "Kenward-Roger")
emm_df <- c(satterthwaite = "satterthwaite", kenward_roger = "kenward-roger")

anova_rows <- function(case, m) {
  for (d in names(ddfs)) {
    a <- anova(m, type = 3, ddf = ddfs[[d]])
    for (i in seq_len(nrow(a))) add(case, "joint", rownames(a)[i], "", "", "", d, NA, NA,
                                    a$NumDF[i], a$DenDF[i], a$`F value`[i], a$`Pr(>F)`[i])
  }
}
emm_rows <- function(case, m, spec, at = list(), method = "trt.vs.ctrl", ref = 1, adjust = "none", by = NULL) {
  for (d in names(emm_df)) {
    # nesting = NULL: time:responder_2wk without a responder main effect is not a nested design
    emm <- emmeans(m, spec, at = at, lmer.df = emm_df[[d]], nesting = NULL)
    s <- as.data.frame(summary(emm))
    term <- all.vars(spec)[1]
    for (i in seq_len(nrow(s))) add(case, "emmean", term, as.character(s[[term]][i]), "",
                                    if (is.null(by)) "" else paste0(by, "=", s[[by]][i]), d,
                                    s$emmean[i], s$SE[i], s$df[i], NA, NA, NA)
    cs <- if (method == "trt.vs.ctrl") contrast(emm, "trt.vs.ctrl", ref = ref, adjust = adjust)
          else contrast(emm, method, adjust = adjust)
    cc <- as.data.frame(summary(cs))
    for (i in seq_len(nrow(cc))) add(case, "contrast", term, "", as.character(cc$contrast[i]),
                                     if (is.null(by)) "" else paste0(by, "=", cc[[by]][i]), d,
                                     cc$estimate[i], cc$SE[i], cc$df[i], NA, cc$t.ratio[i], cc$p.value[i])
  }
}

m1 <- lmer(distance ~ age_f * sex + (1 | subject), data = orth, control = ctrl)
anova_rows("orthodont_factor", m1)
emm_rows("orthodont_factor", m1, ~ age_f, method = "trt.vs.ctrl", ref = 1, adjust = "bonferroni")
m2 <- lmer(distance ~ age * sex + (1 | subject), data = orth, control = ctrl)
emm_rows("orthodont_numeric", m2, ~ sex, method = "pairwise")
m3 <- lmer(reaction ~ days_f + (1 | subject), data = sleep, control = ctrl)
anova_rows("sleepstudy_factor", m3)
emm_rows("sleepstudy_factor", m3, ~ days_f, method = "trt.vs.ctrl", ref = 1, adjust = "holm")
for (y in c("fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual")) {
  m <- lmer(as.formula(paste(y, "~ time + time:responder_2wk + (1 | participant_id)")), data = siegel, control = ctrl)
  emm_rows(paste0("siegel_", y), m, ~ time | responder_2wk, at = list(time = c(0, 1), responder_2wk = c(0, 1)),
           method = "revpairwise", by = "responder_2wk")
}

result <- do.call(rbind, rows)
write.csv(result, file.path(out, "reference.csv"), row.names = FALSE, quote = TRUE)
write.csv(orth[, c("subject", "age", "sex", "distance")], file.path(out, "orthodont.csv"), row.names = FALSE)
write.csv(sleep[, c("subject", "days", "reaction")], file.path(out, "sleepstudy.csv"), row.names = FALSE)
writeLines(c(R.version.string, sapply(c("lme4", "lmerTest", "pbkrtest", "emmeans"),
             function(p) paste(p, as.character(packageVersion(p))))), file.path(out, "versions.txt"))
