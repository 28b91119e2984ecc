#!/usr/bin/env Rscript
# Reference values for ketastats.stats.survival and the kaplan_meier / logrank / cox analyses.
#
# Run from the project root:
#     Rscript tests/reference/survival/make_reference.R
# Writes tests/reference/survival/survival.json (next to this script).
#
# Needs R with the recommended package 'survival' (>= 3.0; Debian r-cran-survival) and
# 'jsonlite'. Data: survival::lung, survival::ovarian, a four-subject toy set whose curve sits
# at 0.5 over an interval, and the synthetic ketamine trial's relapse table
# (ketamine_relapse.csv beside this script, written by ketastats from the shipped synthetic
# data with the plan analysis_plans/ketamine_placebo_rct.yaml).
#
# R calls reproduced (default settings unless stated):
#   survfit(Surv(time, status) ~ g, conf.type = "log" | "log-log" | "plain")  curve, print() median + CI
#   summary(survfit, times = landmarks)                                       survival at landmarks
#   survdiff(Surv(time, status) ~ g [+ strata(s)])                           log-rank
#   coxph(Surv(time, status) ~ x, ties = "efron" | "breslow")                 coef, se, tests, concordance
#   cox.zph(fit, transform = "km" | "identity")                               PH score tests
#
# Numbers are written with 17 significant digits (sprintf("%.17g")) and inserted verbatim,
# because jsonlite keeps only 15; NA is written as null. The data themselves are stored in
# the JSON too, so the Python tests never need R.

suppressPackageStartupMessages({library(survival); library(jsonlite)})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
out_dir <- if (length(file_arg) == 1L) dirname(normalizePath(file_arg)) else
  file.path("tests", "reference", "survival")
out_file <- file.path(out_dir, "survival.json")

num <- function(v) {
  v <- as.numeric(v)
  txt <- ifelse(is.na(v), "null", ifelse(is.infinite(v), ifelse(v > 0, "\"Inf\"", "\"-Inf\""),
                                         sprintf("%.17g", v)))
  structure(paste0("[", paste(txt, collapse = ","), "]"), class = "json")
}
num1 <- function(v) {
  stopifnot(length(v) == 1L)
  structure(if (is.na(v)) "null" else sprintf("%.17g", as.numeric(v)), class = "json")
}
txt <- function(v) as.character(v)

# --- data -----------------------------------------------------------------------------------
lung2 <- survival::lung
lung2$event <- as.integer(lung2$status == 2)
lung2$sex_f <- factor(lung2$sex, levels = 1:2, labels = c("male", "female"))
lung2$ecog_grp <- factor(pmin(lung2$ph.ecog, 2), levels = 0:2, labels = c("0", "1", "2+"))
ovarian2 <- survival::ovarian
ovarian2$rx_f <- factor(ovarian2$rx, levels = 1:2, labels = c("A", "B"))
toy <- data.frame(time = c(1, 2, 3, 4, 5, 6), event = c(1L, 1L, 0L, 1L, 1L, 0L),
                  group = c("a", "a", "a", "a", "b", "b"))
toy_half <- data.frame(time = c(1, 2, 3, 4), event = c(1L, 1L, 1L, 1L))

datasets <- list(
  lung = list(time = num(lung2$time), event = lung2$event, age = num(lung2$age), sex = num(lung2$sex),
              sex_f = txt(lung2$sex_f), ph_ecog = num(lung2$ph.ecog), ecog_grp = txt(lung2$ecog_grp)),
  ovarian = list(time = num(ovarian2$futime), event = as.integer(ovarian2$fustat), age = num(ovarian2$age),
                 rx_f = txt(ovarian2$rx_f), ecog_ps = num(ovarian2$ecog.ps), resid_ds = num(ovarian2$resid.ds)),
  toy = list(time = num(toy$time), event = toy$event, group = toy$group),
  toy_half = list(time = num(toy_half$time), event = toy_half$event))
frames <- list(lung = data.frame(time = lung2$time, event = lung2$event, age = lung2$age, sex = lung2$sex,
                                 sex_f = lung2$sex_f, ph_ecog = lung2$ph.ecog, ecog_grp = lung2$ecog_grp),
               ovarian = data.frame(time = ovarian2$futime, event = ovarian2$fustat, age = ovarian2$age,
                                    rx_f = ovarian2$rx_f, ecog_ps = ovarian2$ecog.ps,
                                    resid_ds = ovarian2$resid.ds),
               toy = toy, toy_half = toy_half)

relapse_csv <- file.path(out_dir, "ketamine_relapse.csv")
if (file.exists(relapse_csv)) {
  rel <- read.csv(relapse_csv, stringsAsFactors = FALSE)
  rel$arm <- factor(rel$arm, levels = c("placebo", "ketamine"))
  rel$event <- as.integer(rel$event == "true" | rel$event == "TRUE")
  frames$ketamine_relapse <- data.frame(time = rel$time, event = rel$event, arm = rel$arm,
                                        madrs_baseline = rel$madrs_baseline)
  datasets$ketamine_relapse <- list(participant_id = rel$participant_id, time = num(rel$time),
                                    event = rel$event, arm = txt(rel$arm),
                                    madrs_baseline = num(rel$madrs_baseline))
}

# --- Kaplan-Meier ---------------------------------------------------------------------------
km_case <- function(name, data, group, conf_type, landmarks, conf_level = 0.95) {
  d <- frames[[data]]
  f <- if (is.null(group)) Surv(time, event) ~ 1 else as.formula(paste("Surv(time, event) ~", group))
  fit <- survfit(f, data = d, conf.type = conf_type, conf.int = conf_level)
  levels_ <- if (is.null(group)) list(NULL) else as.list(levels(factor(d[[group]])))
  tab <- summary(fit)$table
  if (is.null(dim(tab))) tab <- matrix(tab, nrow = 1, dimnames = list(NULL, names(tab)))
  groups <- list()
  for (i in seq_along(levels_)) {
    sub <- if (is.null(group)) fit else fit[i]
    s <- summary(sub, times = landmarks)
    groups[[i]] <- list(
      group = if (is.null(levels_[[i]])) NULL else levels_[[i]],
      n = num1(tab[i, "records"]), events = num1(tab[i, "events"]),
      median = num1(tab[i, "median"]),
      median_lower = num1(tab[i, grep("LCL", colnames(tab))]),
      median_upper = num1(tab[i, grep("UCL", colnames(tab))]),
      curve = list(time = num(sub$time), n_risk = num(sub$n.risk), n_event = num(sub$n.event),
                   n_censor = num(sub$n.censor), surv = num(sub$surv), std_err = num(sub$std.err),
                   lower = num(sub$lower), upper = num(sub$upper)),
      landmarks = list(time = num(s$time), n_risk = num(s$n.risk), n_event_cumulative = num(cumsum(s$n.event)),
                       surv = num(s$surv), se_surv = num(s$std.err), lower = num(s$lower),
                       upper = num(s$upper)))
  }
  list(name = name, data = data, group = group, conf_type = conf_type, conf_level = num1(conf_level),
       landmarks_requested = num(landmarks),
       call = sprintf("survfit(%s, conf.type = '%s'); summary(fit)$table; summary(fit, times = landmarks)",
                      deparse(f), conf_type),
       groups = groups)
}

km <- list(
  km_case("lung_overall_log", "lung", NULL, "log", c(0, 5, 100, 365, 730, 1022, 1100)),
  km_case("lung_overall_loglog", "lung", NULL, "log-log", c(0, 100, 365, 730)),
  km_case("lung_overall_plain", "lung", NULL, "plain", c(0, 100, 365, 730)),
  km_case("lung_sex_log", "lung", "sex_f", "log", c(100, 365, 730, 1000)),
  km_case("ovarian_rx_log", "ovarian", "rx_f", "log", c(180, 365, 730, 1200)),
  km_case("ovarian_rx_loglog", "ovarian", "rx_f", "log-log", c(180, 365, 730)),
  km_case("toy_half_log", "toy_half", NULL, "log", c(0, 2, 2.5, 4)),
  km_case("toy_group_plain", "toy", "group", "plain", c(1, 3, 5), conf_level = 0.9))
if (!is.null(frames$ketamine_relapse)) {
  km[[length(km) + 1L]] <- km_case("ketamine_arm_log", "ketamine_relapse", "arm", "log", c(14, 28, 56, 84, 200))
}

# --- log-rank -------------------------------------------------------------------------------
lr_case <- function(name, data, group, strata = NULL) {
  d <- frames[[data]]
  rhs <- if (is.null(strata)) group else paste0(group, " + strata(", strata, ")")
  f <- as.formula(paste("Surv(time, event) ~", rhs))
  fit <- survdiff(f, data = d)
  obs <- if (is.matrix(fit$obs)) rowSums(fit$obs) else fit$obs
  ex <- if (is.matrix(fit$exp)) rowSums(fit$exp) else fit$exp
  df <- sum(ex > 0) - 1
  list(name = name, data = data, group = group, strata = strata, call = paste0("survdiff(", deparse(f), ")"),
       levels = sub("^[^=]*=", "", names(fit$n)), n = as.integer(fit$n), observed = num(obs),
       expected = num(ex), chisq = num1(fit$chisq), df = df, p = num1(fit$pvalue))
}
logrank <- list(
  lr_case("lung_sex", "lung", "sex_f"),
  lr_case("lung_sex_strata_ecog", "lung", "sex_f", "ph_ecog"),
  lr_case("lung_ecog", "lung", "ph_ecog"),
  lr_case("ovarian_rx", "ovarian", "rx_f"),
  lr_case("ovarian_rx_strata_ecog", "ovarian", "rx_f", "ecog_ps"),
  lr_case("toy_group", "toy", "group"))
if (!is.null(frames$ketamine_relapse)) logrank[[length(logrank) + 1L]] <- lr_case("ketamine_arm", "ketamine_relapse", "arm")

# --- Cox --------------------------------------------------------------------------------------
cox_case <- function(name, data, rhs, ties = "efron", strata = NULL) {
  d <- frames[[data]]
  full <- if (is.null(strata)) rhs else paste0(rhs, " + strata(", strata, ")")
  f <- as.formula(paste("Surv(time, event) ~", full))
  fit <- coxph(f, data = d, ties = ties)
  s <- summary(fit)
  zph <- list()
  for (tr in c("km", "identity")) {
    z <- cox.zph(fit, transform = tr)
    k <- nrow(z$table)
    zph[[tr]] <- list(terms = rownames(z$table)[-k], chisq = num(z$table[-k, "chisq"]),
                      df = as.integer(z$table[-k, "df"]), p = num(z$table[-k, "p"]),
                      global = list(chisq = num1(z$table[k, "chisq"]), df = as.integer(z$table[k, "df"]),
                                    p = num1(z$table[k, "p"])))
  }
  mm <- model.matrix(fit)
  used <- setdiff(seq_len(nrow(d)), if (is.null(fit$na.action)) integer(0) else as.integer(fit$na.action))
  list(name = name, data = data, formula = deparse(f), ties = ties, strata = strata,
       call = sprintf("coxph(%s, ties = '%s'); summary(fit); cox.zph(fit, transform = 'km' | 'identity')",
                      deparse(f), ties),
       n = fit$n, nevent = fit$nevent, rows_used = used,
       terms = names(fit$coefficients), assign = lapply(fit$assign, as.integer),
       coef = num(coef(fit)), se = num(sqrt(diag(fit$var))), z = num(s$coefficients[, "z"]),
       p = num(s$coefficients[, "Pr(>|z|)"]), hr = num(exp(coef(fit))),
       hr_lower = num(s$conf.int[, "lower .95"]), hr_upper = num(s$conf.int[, "upper .95"]),
       loglik = num(fit$loglik),
       lr = list(chisq = num1(s$logtest["test"]), df = as.integer(s$logtest["df"]), p = num1(s$logtest["pvalue"])),
       # summary()$waldtest rounds the statistic to 2 decimals; fit$wald.test is unrounded
       wald = list(chisq = num1(fit$wald.test), df = as.integer(s$waldtest["df"]),
                   p = num1(pchisq(fit$wald.test, s$waldtest["df"], lower.tail = FALSE))),
       score = list(chisq = num1(s$sctest["test"]), df = as.integer(s$sctest["df"]), p = num1(s$sctest["pvalue"])),
       concordance = list(concordance = num1(fit$concordance["concordance"]), std = num1(fit$concordance["std"]),
                          counts = num(fit$concordance[c("concordant", "discordant", "tied.x", "tied.y", "tied.xy")])),
       x = lapply(seq_len(ncol(mm)), function(j) num(mm[, j])),
       zph = zph)
}
cox <- list(
  cox_case("lung_age_sex_ecog_efron", "lung", "age + sex + ph_ecog", "efron"),
  cox_case("lung_age_sex_ecog_breslow", "lung", "age + sex + ph_ecog", "breslow"),
  cox_case("lung_age_ecoggrp_strata_sex", "lung", "age + ecog_grp", "efron", strata = "sex_f"),
  cox_case("ovarian_age_rx_efron", "ovarian", "age + rx_f", "efron"),
  cox_case("ovarian_age_rx_breslow", "ovarian", "age + rx_f", "breslow"))
if (!is.null(frames$ketamine_relapse)) {
  cox[[length(cox) + 1L]] <- cox_case("ketamine_arm_madrs_efron", "ketamine_relapse", "arm + madrs_baseline", "efron")
  cox[[length(cox) + 1L]] <- cox_case("ketamine_arm_madrs_breslow", "ketamine_relapse", "arm + madrs_baseline", "breslow")
}

out <- list(
  description = "R survival reference values for ketastats.stats.survival and the kaplan_meier, logrank and cox analyses.",
  generated_by = "Rscript tests/reference/survival/make_reference.R",
  R_version = R.version.string,
  platform = R.version$platform,
  packages = list(survival = as.character(packageVersion("survival")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  number_format = "sprintf('%.17g'); NA as null",
  notes = paste("lung: event = status == 2; sex_f = factor(sex, 1:2, c('male','female'));",
                "ecog_grp = factor(pmin(ph.ecog, 2), labels = c('0','1','2+')). ovarian: rx_f = factor(rx, 1:2, c('A','B')).",
                "Landmark rows: summary(fit, times = ...) drops times after the last follow-up;",
                "n_event_cumulative = cumsum(summary(...)$n.event). Median and its CI: summary(fit)$table",
                "(print.survfit). concordance: fit$concordance (concordancefit, timewt = 'n')."),
  datasets = datasets, km = km, logrank = logrank, cox = cox)

json <- toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, null = "null", na = "null")
back <- fromJSON(json, simplifyVector = FALSE)   # parses: the verbatim numbers are valid JSON
writeLines(json, out_file)
cat(sprintf("wrote %d KM, %d log-rank and %d Cox cases to %s\n", length(km), length(logrank), length(cox), out_file))
