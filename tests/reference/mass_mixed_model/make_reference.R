#!/usr/bin/env Rscript
# Reference values for ketastats.stats.lmm_batched and the mass_mixed_model analysis:
# lme4 + lmerTest looped over 240 outcomes that share one unbalanced design.
#
# Run from the project root:
#     Rscript tests/reference/mass_mixed_model/make_reference.R
# Writes, next to this script:
#     data.csv        the data (participant_id, time, group, y001 ... y240), every number
#                     with 17 significant digits
#     reference.json  per outcome: lme4 / lmerTest results, 17 significant digits
#
# Needs lme4, lmerTest and jsonlite.
#
# Design: 24 participants with one, two or three scans (time 0, 1, 2; the sizes are drawn
# once), a two-level group factor (a, b; between participants). Outcome k is
#     y = 0.3 + 0.2 * time - 0.1 * (group == "b") * time + sd_b[k] * b_participant + e,
# with sd_b[k] = 0 for every third outcome (so about a third of all fits are on the boundary,
# theta = 0) and uniform on (0, 1.5) otherwise. Model, per outcome:
#     lmer(y ~ time * group + (1 | participant_id), REML = TRUE, control = ctl)
# with ctl = lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
# (lme4's default optimizer stops ~1e-5 short of the optimum in theta).
# Recorded: summary(m)$coefficients (lmerTest Satterthwaite: Estimate, Std. Error, df,
# t value, Pr(>|t|)), getME(m, "theta"), sigma(m), VarCorr SD of the intercept,
# REMLcrit(m), isSingular(m, tol = 1e-4), and the elapsed seconds of the whole loop.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
out_dir <- if (length(file_arg) == 1L) dirname(normalizePath(file_arg)) else
  file.path("tests", "reference", "mass_mixed_model")

ctl_call <- 'lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))'
ctl <- eval(parse(text = ctl_call))

num <- function(v) {
  stopifnot(length(v) == 1L)
  v <- as.numeric(v)
  if (!is.finite(v)) stop("non-finite number")
  structure(sprintf("%.17g", v), class = "json")
}
vec <- function(v) lapply(as.numeric(v), num)

set.seed(20210423)
n_participants <- 24L
n_outcomes <- 240L
sizes <- sample(1:3, n_participants, replace = TRUE)
sizes[1:3] <- c(1L, 2L, 3L)             # make sure every size occurs
pid <- rep(sprintf("P%02d", seq_len(n_participants)), times = sizes)
time <- unlist(lapply(sizes, function(s) seq_len(s) - 1L))
group <- rep(rep(c("a", "b"), length.out = n_participants), times = sizes)
n <- length(pid)
sd_b <- ifelse(seq_len(n_outcomes) %% 3L == 0L, 0, runif(n_outcomes, 0, 1.5))
data <- data.frame(participant_id = pid, time = time, group = group, stringsAsFactors = FALSE)
b_index <- match(pid, unique(pid))
for (k in seq_len(n_outcomes)) {
  b <- rnorm(n_participants)[b_index]
  y <- 0.3 + 0.2 * time - 0.1 * (group == "b") * time + sd_b[k] * b + rnorm(n)
  data[[sprintf("y%03d", k)]] <- y
}
outcomes <- sprintf("y%03d", seq_len(n_outcomes))

# write the data with 17 significant digits, and read it back so that R fits exactly the file
csv <- data
for (name in outcomes) csv[[name]] <- sprintf("%.17g", data[[name]])
write.csv(csv, file.path(out_dir, "data.csv"), row.names = FALSE, quote = FALSE)
data <- read.csv(file.path(out_dir, "data.csv"), stringsAsFactors = FALSE)
data$group <- factor(data$group, levels = c("a", "b"))
data$participant_id <- factor(data$participant_id)

results <- list()
started <- proc.time()[["elapsed"]]
for (name in outcomes) {
  f <- as.formula(paste(name, "~ time * group + (1 | participant_id)"))
  m <- suppressMessages(lmer(f, data = data, REML = TRUE, control = ctl))
  co <- summary(m)$coefficients
  vc <- as.data.frame(VarCorr(m))
  results[[name]] <- list(
    outcome = name,
    terms = rownames(co),
    estimate = vec(co[, "Estimate"]),
    std_error = vec(co[, "Std. Error"]),
    df = vec(co[, "df"]),
    statistic = vec(co[, "t value"]),
    p_value = vec(co[, "Pr(>|t|)"]),
    theta = num(getME(m, "theta")),
    sigma = num(sigma(m)),
    sd_intercept = num(vc$sdcor[vc$grp == "participant_id"]),
    reml_criterion = num(REMLcrit(m)),
    singular = isSingular(m, tol = 1e-4)
  )
}
elapsed <- proc.time()[["elapsed"]] - started

out <- list(
  description = paste("lme4 + lmerTest (Satterthwaite) per outcome:",
                      "y ~ time * group + (1 | participant_id), REML"),
  control = ctl_call,
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  lmerTest_version = as.character(packageVersion("lmerTest")),
  n_obs = n, n_participants = n_participants, scans_per_participant = as.list(table(sizes)),
  n_outcomes = n_outcomes,
  n_singular = sum(vapply(results, function(r) r$singular, logical(1))),
  seconds_per_outcome = num(elapsed / n_outcomes),
  outcomes = unname(results)
)
writeLines(toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE),
           file.path(out_dir, "reference.json"))
cat("wrote", file.path(out_dir, "reference.json"), "and data.csv;",
    out$n_singular, "singular fits;", elapsed / n_outcomes, "s per outcome\n")
