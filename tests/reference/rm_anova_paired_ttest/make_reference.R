#!/usr/bin/env Rscript
# Reference values for ketastats rm_anova and paired_ttest (repeated-measures ANOVA with
# sphericity tests / corrections, effect sizes, post-hoc paired t tests; standalone paired t).
#
# Run from the project root:
#     Rscript tests/reference/rm_anova_paired_ttest/make_reference.R
# Writes, next to this script:
#     rm_anova.json   the reference numbers (17 significant digits)
#     obk_long.csv    afex::obk.long, so that the Python tests need neither R nor afex
#
# Needs R with afex (>= 1.2; brings car) and jsonlite. No emmeans: post-hoc tests are plain
# paired t.test()s on per-participant cell means, adjusted with p.adjust().
#
# R calls reproduced:
#   ANOVA:      afex::aov_ez(id, dv, data, between, within, type = 3)   (car::Anova on the
#               multivariate lm, contr.sum coding), the univariate table from
#               summary(fit$Anova, multivariate = FALSE): $univariate.tests (SS, df, F, p),
#               $pval.adjustments (GG / HF epsilon and corrected p), $sphericity.tests
#               (Mauchly W, p); effect sizes from anova(fit, es = c("pes", "ges")) and the
#               afex corrected tables anova(fit, correction = "GG" / "HF").
#   post hoc:   t.test(x, y, paired = TRUE) + p.adjust(p, method)
#   paired t:   t.test(x, y, paired = TRUE, conf.level, alternative)
#
# Numbers are written with sprintf("%.17g") and inserted verbatim (jsonlite keeps only 15
# significant digits); the script checks the exact round-trip before writing. Infinite
# bounds of one-sided intervals are written as the strings "Inf" / "-Inf".

suppressPackageStartupMessages({
  library(afex)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
out_dir <- if (length(file_arg) == 1L) dirname(normalizePath(file_arg)) else
  file.path("tests", "reference", "rm_anova_paired_ttest")

raw <- c()   # every number written, for the round-trip check
num <- function(v) {
  stopifnot(is.numeric(v), length(v) == 1L)
  if (is.na(v)) return(NULL)
  if (is.infinite(v)) return(if (v > 0) "Inf" else "-Inf")   # a JSON string
  raw <<- c(raw, v)
  structure(sprintf("%.17g", v), class = "json")
}

data(obk.long, package = "afex")
obk <- obk.long[, c("id", "treatment", "gender", "phase", "hour", "value")]
write.csv(obk, file.path(out_dir, "obk_long.csv"), row.names = FALSE)
# One value per participant x phase: the mean over the five hours (done here, explicitly,
# rather than by afex's fun_aggregate; the Python test aggregates the same way).
obk_phase <- aggregate(value ~ id + treatment + gender + phase, data = obk, FUN = mean)

# Siegel 2021 synthetic replica: per protocol, visits baseline / day1 / week2 / week8.
clinical <- read.csv(file.path("ketastats", "datasets", "siegel2021", "clinical.csv"))
participants <- read.csv(file.path("ketastats", "datasets", "siegel2021", "participants.csv"))
pp_ids <- participants$participant_id[participants$completed_infusion %in% c(TRUE, "true")]
siegel_visits <- c("baseline", "day1", "week2", "week8")
siegel <- clinical[clinical$participant_id %in% pp_ids & clinical$visit %in% siegel_visits, ]
siegel$visit <- factor(siegel$visit, levels = siegel_visits)
# complete cases: participants with all four visits (aov_ez would drop the others with a warning)
counts <- table(siegel$participant_id)
siegel_complete <- siegel[siegel$participant_id %in% names(counts)[counts == length(siegel_visits)], ]

# obk.long with two cells removed: participants 3 and 7 become incomplete.
obk_incomplete <- obk[!((obk$id == "3" & obk$phase == "post" & obk$hour == "2") |
                          (obk$id == "7" & obk$phase == "fup" & obk$hour == "5")), ]

anova_rows <- function(fit) {
  s <- suppressWarnings(summary(fit$Anova, multivariate = FALSE))
  uni <- s$univariate.tests
  adj <- s$pval.adjustments
  sph <- s$sphericity.tests
  es <- anova(fit, es = c("pes", "ges"), correction = "none")
  gg <- anova(fit, es = "none", correction = "GG")
  hf <- suppressWarnings(anova(fit, es = "none", correction = "HF"))
  terms <- rownames(es)
  lapply(terms, function(term) {
    row <- list(term = term,
                sum_sq = num(uni[term, "Sum Sq"]), df = num(uni[term, "num Df"]),
                sum_sq_error = num(uni[term, "Error SS"]), df_denominator = num(uni[term, "den Df"]),
                statistic = num(uni[term, "F value"]), p_value = num(uni[term, "Pr(>F)"]),
                eta_sq_partial = num(es[term, "pes"]), eta_sq_generalized = num(es[term, "ges"]),
                afex_gg_df = num(gg[term, "num Df"]), afex_gg_df_denominator = num(gg[term, "den Df"]),
                afex_gg_p_value = num(gg[term, "Pr(>F)"]),
                afex_hf_df = num(hf[term, "num Df"]), afex_hf_p_value = num(hf[term, "Pr(>F)"]))
    if (!is.null(adj) && term %in% rownames(adj)) {
      row$epsilon_gg <- num(adj[term, "GG eps"])
      row$p_value_gg <- num(adj[term, "Pr(>F[GG])"])
      row$epsilon_hf_raw <- num(adj[term, "HF eps"])
      row$epsilon_hf <- num(min(1, adj[term, "HF eps"]))
      row$p_value_hf <- num(adj[term, "Pr(>F[HF])"])
    }
    within_part <- sub("^.*?((phase|hour|visit)(:.*)?)$", "\\1", term, perl = TRUE)
    if (!is.null(sph) && within_part %in% rownames(sph)) {
      row$mauchly_w <- num(sph[within_part, "Test statistic"])
      row$mauchly_p <- num(sph[within_part, "p-value"])
    }
    row
  })
}

# Paired t test of level a minus level b of `factor`, on per-participant means of `value`
# (averaged over any other within factor), restricted to `subset_rows`.
paired <- function(data, id, dv, factor, a, b, conf_level = 0.95, alternative = "two.sided") {
  m <- aggregate(data[[dv]], by = list(id = data[[id]], f = data[[factor]]), FUN = mean)
  wide <- reshape(m, idvar = "id", timevar = "f", direction = "wide")
  wide <- wide[complete.cases(wide[, c(paste0("x.", a), paste0("x.", b))]), ]
  x <- wide[[paste0("x.", a)]]
  y <- wide[[paste0("x.", b)]]
  t <- t.test(x, y, paired = TRUE, conf.level = conf_level, alternative = alternative)
  d <- x - y
  list(contrast = paste(a, "-", b), n_subjects = length(d),
       estimate = num(unname(t$estimate)), std_error = num(t$stderr),
       conf_low = num(t$conf.int[1]), conf_high = num(t$conf.int[2]), conf_level = num(conf_level),
       statistic = num(unname(t$statistic)), df = num(unname(t$parameter)),
       p_value = num(t$p.value), alternative = alternative,
       effect_size = num(mean(d) / sd(d)))
}

posthoc <- function(data, id, dv, factor, versus, adjust, by = NULL) {
  levels_ <- levels(data[[factor]])
  pairs <- if (identical(versus, "all")) {
    combn(levels_, 2, simplify = FALSE)
  } else {
    lapply(setdiff(levels_, versus), function(l) c(l, versus))
  }
  groups <- if (is.null(by)) list(NULL) else as.list(levels(data[[by]]))
  rows <- list()
  for (g in groups) {
    sub <- if (is.null(g)) data else data[data[[by]] == g, ]
    for (p in pairs) {
      r <- paired(sub, id, dv, factor, p[1], p[2])
      if (!is.null(g)) r$group <- g
      rows[[length(rows) + 1L]] <- r
    }
  }
  p <- vapply(rows, function(r) as.numeric(unclass(r$p_value)), 0)
  p_adj <- p.adjust(p, method = adjust)
  for (i in seq_along(rows)) rows[[i]]$p_adjusted <- num(p_adj[i])
  list(factor = factor, versus = versus, adjust = adjust, by = by, rows = rows)
}

fit_case <- function(name, data, id, dv, between, within, description, post = NULL) {
  fit <- suppressWarnings(suppressMessages(
    aov_ez(id, dv, data, between = between, within = within, type = 3,
           anova_table = list(correction = "none", es = c("pes", "ges")))))
  list(name = name, description = description,
       call = sprintf("aov_ez('%s', '%s', data, between = %s, within = %s, type = 3)", id, dv,
                      deparse(between), deparse(within)),
       n_subjects = length(unique(fit$data$long[[id]])),
       excluded_subjects = if (is.null(attr(fit, "incomplete_cases"))) list() else
         as.list(as.character(attr(fit, "incomplete_cases"))),
       terms = anova_rows(fit), posthoc = post)
}

cases <- list(
  fit_case("obk_within", obk, "id", "value", NULL, c("phase", "hour"),
           "obk.long, two-way within (phase x hour), 16 participants",
           post = posthoc(obk, "id", "value", "hour", "1", "holm")),
  fit_case("obk_oneway", obk_phase, "id", "value", NULL, "phase",
           "obk.long averaged over hour, one-way within (phase)",
           post = posthoc(obk_phase, "id", "value", "phase", "all", "holm")),
  fit_case("obk_mixed", obk_phase, "id", "value", "treatment", "phase",
           "obk.long averaged over hour, mixed: treatment (between, 5/4/7) x phase (within)",
           post = posthoc(obk_phase, "id", "value", "phase", "pre", "bonferroni", by = "treatment")),
  fit_case("obk_full", obk, "id", "value", c("treatment", "gender"), c("phase", "hour"),
           "obk.long, treatment x gender (between, unbalanced) x phase x hour (within)"),
  fit_case("obk_incomplete", obk_incomplete, "id", "value", NULL, c("phase", "hour"),
           "obk.long without (id 3, post, hour 2) and (id 7, fup, hour 5): afex drops ids 3 and 7"),
  fit_case("siegel_madrs", siegel_complete, "participant_id", "madrs", NULL, "visit",
           paste("Siegel 2021 synthetic replica, per protocol (completed_infusion), MADRS at",
                 "baseline, day1, week2, week8, participants with all four visits"),
           post = posthoc(siegel_complete, "participant_id", "madrs", "visit", "baseline", "bonferroni"))
)

# Standalone paired t tests (available pairs per comparison, as ketastats paired_ttest).
paired_cases <- list()
for (v in c("day1", "week2", "week8")) {
  r <- paired(siegel, "participant_id", "madrs", "visit", v, "baseline")
  r$name <- paste0("siegel_", v, "_vs_baseline")
  paired_cases[[length(paired_cases) + 1L]] <- r
}
for (g in levels(obk_phase$treatment)) {
  r <- paired(obk_phase[obk_phase$treatment == g, ], "id", "value", "phase", "post", "pre",
              conf_level = 0.9, alternative = "greater")
  r$name <- paste0("obk_post_vs_pre_", g)
  r$group <- g
  paired_cases[[length(paired_cases) + 1L]] <- r
}

out <- list(
  description = paste("Repeated-measures ANOVA (afex / car), sphericity, effect sizes and paired",
                      "t tests from R; reference for ketastats rm_anova / paired_ttest."),
  generated_by = "Rscript tests/reference/rm_anova_paired_ttest/make_reference.R",
  R_version = R.version.string,
  platform = R.version$platform,
  packages = list(afex = as.character(packageVersion("afex")),
                  car = as.character(packageVersion("car")),
                  stats = as.character(packageVersion("stats")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  number_format = "sprintf('%.17g') (17 significant digits, exact double round-trip)",
  notes = paste("epsilon_hf_raw is car's Huynh-Feldt epsilon (may exceed 1); epsilon_hf =",
                "min(1, raw), the value car and afex use for the corrected p-value.",
                "Mauchly and epsilons exist only for within terms with more than 1 df."),
  cases = cases,
  paired_ttest = paired_cases)

json <- toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, null = "null")
back <- fromJSON(json, simplifyVector = FALSE)
# round-trip: every number formatted with %.17g must read back identical
check <- function(x) {
  if (is.list(x)) unlist(lapply(x, check)) else if (is.numeric(x)) x else NULL
}
read_back <- check(back)
stopifnot(all(raw[is.finite(raw)] %in% read_back))
writeLines(json, file.path(out_dir, "rm_anova.json"))
cat(sprintf("wrote %d ANOVA cases and %d paired t tests to %s\n", length(cases),
            length(paired_cases), file.path(out_dir, "rm_anova.json")))
