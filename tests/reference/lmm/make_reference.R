#!/usr/bin/env Rscript
# Reference values for ketastats.stats.lmm / satterthwaite / kenward_roger
# (linear mixed models with one grouping factor, fitted by lme4, with
# lmerTest Satterthwaite and pbkrtest Kenward-Roger inference).
#
# Run from the project root:
#     Rscript tests/reference/lmm/make_reference.R
# Writes, next to this script:
#     reference.json  every number as 17 significant digits (sprintf("%.17g"))
#     siegel_fc.csv   the 40-row Siegel FC table the Siegel cases use (for humans;
#                     the JSON holds the same data as y / X / Z / groups)
#
# Needs lme4, lmerTest, pbkrtest, nlme (Orthodont) and jsonlite.
#
# Every model is fitted with a tight optimizer,
#     lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
# because lme4's default stops ~1e-5 short of the optimum in theta, which moves
# Satterthwaite df by up to 1e-3. (rhoend is a minqa::bobyqa control and must
# go through optCtrl; m@optinfo$control shows it was used.)
#
# Per model the JSON holds the model inputs exactly as lme4 saw them
# (y, X = getME(m, "X"), the per-row random-effects design Z (the columns of
# the random term, e.g. [1, Days]), groups = integer codes of the grouping
# factor) and the results:
#   fixef(m), vcov(m), sigma(m), getME(m, "theta"), VarCorr(m) (SDs, corr, cov),
#   logLik(m), AIC(m), BIC(m) (for REML fits all three are from the REML
#   criterion, as lme4 reports them), isSingular(m, tol = 1e-4),
#   summary(m)$coefficients                          (Satterthwaite: SE, df, t, p)
#   summary(m, ddf = "Kenward-Roger")$coefficients    (KR, REML fits only)
#   pbkrtest::vcovAdj(m)                              (KR-adjusted vcov, REML only)
#   m@vcov_varpar                                     (lmerTest: 2 * inverse Hessian
#                                                      of the deviance in (theta, sigma))
#   contest(m, L, joint = FALSE, ddf = ...)           (single contrasts)
#   contest(m, L, joint = TRUE, ddf = ...)            (joint F tests, explicit L)
#   pbkrtest::KRmodcomp(m, L)$test                     (KR F, F scaling, unscaled F)

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(pbkrtest)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
out_dir <- if (length(file_arg) == 1L) dirname(normalizePath(file_arg)) else
  file.path("tests", "reference", "lmm")
out_file <- file.path(out_dir, "reference.json")
csv_file <- file.path(out_dir, "siegel_fc.csv")
data_dir <- file.path("ketastats", "datasets", "siegel2021")

ctl_call <- paste0('lmerControl(optimizer = "bobyqa", ',
                   'optCtrl = list(rhoend = 1e-12, maxfun = 1e5))')
ctl <- eval(parse(text = ctl_call))

# ---- number formatting -----------------------------------------------------
num <- function(v) {
  stopifnot(length(v) == 1L)
  if (is.na(v)) return(NULL)
  v <- as.numeric(v)
  if (!is.finite(v)) stop("non-finite number")
  structure(sprintf("%.17g", v), class = "json")
}
vec <- function(v) lapply(as.numeric(v), num)
mat <- function(M) {
  M <- as.matrix(M)
  lapply(seq_len(nrow(M)), function(i) vec(M[i, ]))
}

# ---- the Siegel FC table -----------------------------------------------------
siegel_table <- function() {
  img <- read.csv(file.path(data_dir, "imaging.csv"), stringsAsFactors = FALSE)
  cli <- read.csv(file.path(data_dir, "clinical.csv"), stringsAsFactors = FALSE)
  base <- cli[cli$visit == "baseline", c("participant_id", "madrs")]
  wk2 <- cli[cli$visit == "week2" & !is.na(cli$madrs), c("participant_id", "madrs")]
  names(base)[2] <- "madrs_baseline"; names(wk2)[2] <- "madrs_week2"
  cl <- merge(wk2, base, by = "participant_id")
  cl$pct_change <- 100 * (cl$madrs_week2 - cl$madrs_baseline) / cl$madrs_baseline
  cl$responder_2wk <- as.integer(cl$pct_change <= -50)
  fcs <- c("fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual")
  rows <- list()
  for (pid in sort(cl$participant_id)) {
    im <- img[img$participant_id == pid, ]
    pre <- im[im$time == "pre", , drop = FALSE]
    post <- im[im$time == "post", , drop = FALSE]
    resp <- cl$responder_2wk[cl$participant_id == pid]
    if (nrow(pre) > 0) {
      # mean of pre1 and pre2 when both exist
      rows[[length(rows) + 1L]] <- data.frame(
        participant_id = pid, time = 0L, responder_2wk = resp,
        t(colMeans(pre[, fcs, drop = FALSE])), check.names = FALSE)
    }
    if (nrow(post) > 0) {
      stopifnot(nrow(post) == 1L)
      rows[[length(rows) + 1L]] <- data.frame(
        participant_id = pid, time = 1L, responder_2wk = resp,
        post[, fcs, drop = FALSE], check.names = FALSE)
    }
  }
  d <- do.call(rbind, rows)
  rownames(d) <- NULL
  d$participant_id <- factor(d$participant_id)
  d
}
siegel <- siegel_table()
stopifnot(nrow(siegel) == 40L, nlevels(siegel$participant_id) == 21L)
write.csv(transform(siegel, participant_id = as.character(participant_id)),
          csv_file, row.names = FALSE, quote = FALSE)

# ---- singular dataset: group means identical, so the REML intercept variance is 0
singular_data <- function() {
  set.seed(20240501)
  g <- rep(1:12, each = 4)
  x <- rep(0:3, times = 12)
  e <- rnorm(48)
  e <- e - ave(e, g)             # every group mean of e is exactly 0
  data.frame(g = factor(g), x = x, y = 10 + e)
}
singdat <- singular_data()

orth <- as.data.frame(nlme::Orthodont)
orth$Subject <- factor(as.character(orth$Subject))   # plain (unordered) factor
sleep <- lme4::sleepstudy

# ---- helpers --------------------------------------------------------------
coef_table <- function(ct) list(
  estimate = vec(ct[, "Estimate"]), se = vec(ct[, "Std. Error"]),
  df = vec(ct[, "df"]), t = vec(ct[, "t value"]), p = vec(ct[, "Pr(>|t|)"]))

contest1 <- function(m, L, ddf) {
  r <- contest(m, L, joint = FALSE, ddf = ddf)
  list(estimate = num(r$Estimate), se = num(r[["Std. Error"]]), df = num(r$df),
       t = num(r[["t value"]]), p = num(r[["Pr(>|t|)"]]))
}
contestF <- function(m, L, ddf) {
  r <- contest(m, L, joint = TRUE, ddf = ddf)
  list(F = num(r[["F value"]]), ndf = num(r$NumDF), ddf = num(r$DenDF),
       p = num(r[["Pr(>F)"]]))
}

# case: name, formula text, data, data name, REML, group column, random-term
# columns (formula for the per-row Z), contrasts (named list of L vectors),
# joint tests (named list of L matrices)
fit_case <- function(name, formula_text, data, data_name, reml, group,
                     zform, contrasts = list(), joints = list(),
                     inference = TRUE, extra = NULL) {
  call_text <- sprintf("lmerTest::lmer(%s, data = %s, REML = %s, control = %s)",
                       formula_text, data_name, reml, ctl_call)
  m <- lmerTest::lmer(as.formula(formula_text), data = data, REML = reml,
                      control = ctl)
  X <- getME(m, "X")
  Zcols <- model.matrix(as.formula(zform), data)
  grp <- data[[group]]
  vc <- VarCorr(m)[[1]]
  sds <- attr(vc, "stddev")
  corr <- attr(vc, "correlation")
  ll <- logLik(m)
  p <- ncol(X)
  out <- list(
    name = name,
    call = call_text,
    formula = formula_text,
    reml = reml,
    data = list(
      n = nrow(X), y = vec(getME(m, "y")),
      X_columns = colnames(X), X = mat(X),
      Z_columns = colnames(Zcols), Z = mat(Zcols),
      groups = as.integer(factor(grp)), group_labels = levels(factor(grp))),
    optimizer = list(name = m@optinfo$optimizer, message = m@optinfo$message,
                     feval = m@optinfo$feval,
                     rhoend = num(m@optinfo$control$rhoend)),
    coefficient_names = names(fixef(m)),
    fixef = vec(fixef(m)),
    vcov = mat(as.matrix(vcov(m))),
    sigma = num(sigma(m)),
    theta = vec(getME(m, "theta")),
    varcorr = list(sd = vec(sds), corr = mat(corr), cov = mat(as.matrix(vc)),
                   names = names(sds)),
    logLik = num(as.numeric(ll)),
    logLik_df = as.integer(attr(ll, "df")),
    AIC = num(AIC(m)), BIC = num(BIC(m)),
    criterion = num(if (reml) REMLcrit(m) else deviance(m)),
    is_singular = isSingular(m, tol = 1e-4),
    calls = list(
      coefficients_satterthwaite = "summary(m)$coefficients",
      coefficients_kenward_roger = 'summary(m, ddf = "Kenward-Roger")$coefficients',
      vcov_kr = "as.matrix(pbkrtest::vcovAdj(m))",
      vcov_varpar = "m@vcov_varpar",
      contrast = 'contest(m, L, joint = FALSE, ddf = "Satterthwaite" / "Kenward-Roger")',
      joint = 'contest(m, L, joint = TRUE, ddf = "Satterthwaite" / "Kenward-Roger")',
      krmodcomp = "pbkrtest::KRmodcomp(m, L)$test"))
  if (inference) {
    out$vcov_varpar <- mat(m@vcov_varpar)
    out$coefficients_satterthwaite <- coef_table(summary(m)$coefficients)
    if (reml) {
      out$coefficients_kenward_roger <-
        coef_table(summary(m, ddf = "Kenward-Roger")$coefficients)
      out$vcov_kr <- mat(as.matrix(pbkrtest::vcovAdj(m)))
    }
    out$contrasts <- lapply(names(contrasts), function(nm) {
      L <- contrasts[[nm]]
      r <- list(name = nm, L = vec(L),
                satterthwaite = contest1(m, L, "Satterthwaite"))
      if (reml) r$kenward_roger <- contest1(m, L, "Kenward-Roger")
      r
    })
    out$joint_tests <- lapply(names(joints), function(nm) {
      L <- joints[[nm]]
      r <- list(name = nm, L = mat(L),
                satterthwaite = contestF(m, L, "Satterthwaite"))
      if (reml) {
        r$kenward_roger <- contestF(m, L, "Kenward-Roger")
        kr <- pbkrtest::KRmodcomp(m, L)$test
        r$krmodcomp <- list(F = num(kr["Ftest", "stat"]),
                            F_unscaled = num(kr["FtestU", "stat"]),
                            F_scaling = num(kr["Ftest", "F.scaling"]),
                            ndf = num(kr["Ftest", "ndf"]),
                            ddf = num(kr["Ftest", "ddf"]),
                            p = num(kr["Ftest", "p.value"]))
      }
      r
    })
  }
  if (!is.null(extra)) out <- c(out, extra(m))
  out
}

sel <- function(p, idx) {   # identity rows of the coefficients idx (1-based)
  L <- matrix(0, length(idx), p)
  L[cbind(seq_along(idx), idx)] <- 1
  L
}

cases <- list()

cases[[length(cases) + 1L]] <- fit_case(
  "sleepstudy_ri", "Reaction ~ Days + (1 | Subject)", sleep, "lme4::sleepstudy",
  TRUE, "Subject", "~ 1",
  contrasts = list(day5 = c(1, 5)))

for (reml in c(TRUE, FALSE)) {
  cases[[length(cases) + 1L]] <- fit_case(
    if (reml) "sleepstudy_rs_reml" else "sleepstudy_rs_ml",
    "Reaction ~ Days + (Days | Subject)", sleep, "lme4::sleepstudy",
    reml, "Subject", "~ Days",
    contrasts = list(day5 = c(1, 5)),
    joints = list(all = sel(2, 1:2)))
}

cases[[length(cases) + 1L]] <- fit_case(
  "sleepstudy_factor_days", "Reaction ~ factor(Days) + (1 | Subject)", sleep,
  "lme4::sleepstudy", TRUE, "Subject", "~ 1",
  contrasts = list(day9_minus_day8 = c(rep(0, 8), -1, 1)),
  joints = list(days = sel(10, 2:10), days_2to4 = sel(10, 3:5)),
  extra = function(m) {
    a <- anova(m, type = 3, ddf = "Satterthwaite")
    k <- anova(m, type = 3, ddf = "Kenward-Roger")
    list(anova_type3 = list(
      call = 'anova(m, type = 3, ddf = "Satterthwaite" / "Kenward-Roger")',
      note = paste("for this one-factor model lmerTest's type-III L for factor(Days)",
                   "is the identity on its 9 coefficients, so it equals joint test 'days'"),
      satterthwaite = list(F = num(a[1, "F value"]), ndf = num(a[1, "NumDF"]),
                           ddf = num(a[1, "DenDF"]), p = num(a[1, "Pr(>F)"])),
      kenward_roger = list(F = num(k[1, "F value"]), ndf = num(k[1, "NumDF"]),
                           ddf = num(k[1, "DenDF"]), p = num(k[1, "Pr(>F)"]))))
  })

cases[[length(cases) + 1L]] <- fit_case(
  "orthodont_ri", "distance ~ age * Sex + (1 | Subject)", orth,
  "as.data.frame(nlme::Orthodont) (Subject as unordered factor; Sex levels Male, Female)",
  TRUE, "Subject", "~ 1",
  contrasts = list(age_slope_female = c(0, 1, 0, 1)),
  joints = list(sex_terms = sel(4, 3:4), all = sel(4, 2:4)))

for (fc in c("fc_dmn", "fc_sgacc_dmn", "fc_limbic", "fc_visual")) {
  cases[[length(cases) + 1L]] <- fit_case(
    paste0("siegel_", fc),
    sprintf("%s ~ time + time:responder_2wk + (1 | participant_id)", fc),
    siegel, "siegel_fc.csv (built from ketastats/datasets/siegel2021)",
    TRUE, "participant_id", "~ 1",
    contrasts = list(post_minus_pre_responders = c(0, 1, 1)),
    joints = list(time_terms = sel(3, 2:3)))
}

cases[[length(cases) + 1L]] <- fit_case(
  "singular_ri", "y ~ x + (1 | g)", singdat,
  "simulated: 12 groups x 4, y = 10 + e - mean_g(e), x = 0..3 (every group mean of y is 10)",
  TRUE, "g", "~ 1")

pkgs <- c("lme4", "lmerTest", "pbkrtest", "Matrix", "minqa", "numDeriv", "nlme", "jsonlite")
pkg_versions <- setNames(lapply(pkgs, function(p) as.character(packageVersion(p))), pkgs)

out <- list(
  description = paste(
    "Linear mixed models (one grouping factor) from lme4 / lmerTest / pbkrtest,",
    "reference for ketastats.stats.lmm, .satterthwaite and .kenward_roger."),
  generated_by = "Rscript tests/reference/lmm/make_reference.R",
  R_version = R.version.string,
  platform = R.version$platform,
  packages = pkg_versions,
  control = ctl_call,
  number_format = "sprintf('%.17g') (17 significant digits, exact double round-trip)",
  notes = paste(
    "Matrices are lists of rows. theta is lme4's order (column-major lower",
    "triangle of the relative covariance factor). For REML fits logLik, AIC and",
    "BIC are REML-based as lme4 reports them (AIC = -2 logLik + 2 df, BIC = -2",
    "logLik + df log(n), df = p + length(theta) + 1). Kenward-Roger results only",
    "for REML fits (lmerTest refuses KR for ML fits). The singular case",
    "(theta = 0) has inference too: lmerTest evaluates its Hessian at the",
    "boundary without complaint there."),
  cases = cases)

json <- toJSON(out, auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE,
               null = "null")

# check that numbers survive the text round-trip exactly (spot check)
back <- fromJSON(json, simplifyVector = FALSE)
for (i in seq_along(cases)) {
  got <- as.numeric(unlist(back$cases[[i]]$fixef))
  want <- as.numeric(vapply(cases[[i]]$fixef, unclass, ""))
  if (!identical(got, want)) stop("round-trip mismatch in case ", i)
}

writeLines(json, out_file)
cat(sprintf("wrote %d cases to %s and %s\n", length(cases), out_file, csv_file))
