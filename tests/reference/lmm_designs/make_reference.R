#!/usr/bin/env Rscript
# Reference values for ketastats.stats.lmm on many (a few hundred) one-grouping-factor
# longitudinal designs, most of them simulated to be hard for an optimiser (small / zero /
# large random-slope SDs, intercept-slope correlations near +-1, uncentred ages as time,
# dropout, small between-subject SDs), plus classic named datasets. For each design the
# reference is lme4's BEST optimum among three tight fits (see fit_design()).
#
# Run from the project root:
#     Rscript tests/reference/lmm_designs/make_reference.R
# Writes, next to this script:
#     data.csv.gz       all data, long: design,subject,group,time,y
#     designs.csv       one row per design: model, fit summary, the three fits' logLik / theta
#     coefficients.csv  fixed effects with Satterthwaite and Kenward-Roger SE / df / p
#     tests.csv         type-III F tests (lmerTest::anova) and emmeans / trt.vs.ctrl contrasts
#     versions.txt      R and package versions
# Numbers are written with 17 significant digits (sprintf("%.17g")), empty for NA.
# Deterministic: every design's data come from set.seed(SEED + design number).
# Needs lme4, lmerTest, pbkrtest, emmeans, nlme; uses parallel::mclapply (2 cores).
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(pbkrtest); library(emmeans); library(parallel)
})
t_start <- proc.time()[["elapsed"]]

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
out <- if (length(file_arg) == 1L) dirname(normalizePath(file_arg)) else
  file.path("tests", "reference", "lmm_designs")
n_cores <- as.integer(Sys.getenv("KETASTATS_R_CORES", "2"))
only_n <- as.integer(Sys.getenv("KETASTATS_R_ONLY", "0"))  # > 0: first n generated designs (testing)

SEED <- 20261130L
set.seed(SEED)

ctl_bobyqa <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
ctl_nm <- lmerControl(optimizer = "Nelder_Mead",
                      optCtrl = list(FtolAbs = 1e-14, FtolRel = 1e-14, XtolRel = 1e-12, maxfun = 1e5))
TIE <- 1e-13   # logLik within TIE * |best logLik| of the best is a tie; preference restart > bobyqa > NM

g <- function(x) {
  x <- as.numeric(x)
  ifelse(is.na(x), "", ifelse(is.infinite(x), ifelse(x > 0, "inf", "-inf"), sprintf("%.17g", x)))
}
gv <- function(x) paste(g(x), collapse = ";")

# ---- simulated designs ------------------------------------------------------------------------
# time schemes: raw visit numbers 0..k-1, weeks (0,1,2,4,6,8,12,16)[1:k], visits centred at the
# middle visit (multiples of 0.5), ages (uncentred, only kind age_uncentred)
WEEKS <- c(0, 1, 2, 4, 6, 8, 12, 16)
time_grid <- function(scheme, k) switch(scheme,
  visits = 0:(k - 1),
  weeks = WEEKS[seq_len(k)],
  centred = 0:(k - 1) - (k - 1) / 2)

rand_slope_kinds <- c(slope_small_sd = 40, slope_zero_sd = 35, slope_large_sd = 30,
                      corr_near_plus1 = 30, corr_near_minus1 = 30, age_uncentred = 30,
                      dropout_monotone = 30, dropout_random = 30)
intercept_kinds <- c(intercept_ml = 25, intercept_reml = 25)

# a design is usable when X has full rank (every group with >= 2 subjects and >= 2 distinct
# times) and lme4's nobs > number of random effects holds
valid <- function(d, G, slope) {
  if (nrow(d) == 0) return(FALSE)
  if (G > 1) {
    for (lv in LETTERS[seq_len(G)]) {
      s <- d[d$group == lv, ]
      if (length(unique(s$subject)) < 2 || length(unique(s$time)) < 2) return(FALSE)
    }
  }
  if (length(unique(d$time)) < 2) return(FALSE)
  n_sub <- length(unique(d$subject))
  nrow(d) > (if (slope) 2 else 1) * n_sub
}

simulate <- function(num, kind, slope) {
  set.seed(SEED + num)
  for (attempt in 1:100) {
    n <- sample(8:60, 1); k <- sample(3:8, 1); G <- sample(2:3, 1)
    reml <- TRUE
    formula <- "y ~ time * group"
    dropout <- "none"
    sigma <- round(runif(1, 1, 5), 2)
    tau0 <- sigma * round(runif(1, 0.3, 2), 2)
    rho <- round(runif(1, -0.5, 0.5), 2)
    scheme <- sample(c("visits", "weeks", "centred"), 1)
    if (kind == "age_uncentred") scheme <- "age"
    # the extra ML / intercept-only special cases
    if (slope && kind != "age_uncentred" && runif(1) < 0.2) reml <- FALSE
    if (kind == "intercept_ml") reml <- FALSE
    if (kind %in% c("intercept_ml", "intercept_reml") && num %% 10 %in% c(1, 4, 7)) {
      formula <- "y ~ time"
    }
    known_case <- kind == "intercept_ml" && num %% 25 < 4   # 43 x 8, ML, theta ~ 0.235
    if (known_case) { n <- 43; k <- 8; scheme <- c("visits", "weeks", "centred", "visits")[num %% 25 + 1] }
    if (formula == "y ~ time") G <- 1
    tt <- if (scheme == "age") 0:(k - 1) else time_grid(scheme, k)
    s <- if (scheme == "age") 1 else (max(tt) - min(tt)) / (k - 1)   # mean gap between visits
    tau1 <- 0
    if (slope) {
      tau1 <- switch(kind,
        slope_small_sd = sigma * runif(1, 0.02, 0.1) / s,
        slope_zero_sd = 0,
        slope_large_sd = sigma * runif(1, 0.5, 1.5) / s,
        corr_near_plus1 = , corr_near_minus1 = sigma * runif(1, 0.2, 0.6) / s,
        age_uncentred = sigma * runif(1, 0.05, 0.4),
        sigma * sample(c(0.05, 0.2, 0.5), 1) / s)   # dropout kinds
      if (kind == "corr_near_plus1") rho <- round(runif(1, 0.97, 0.999), 3)
      if (kind == "corr_near_minus1") rho <- -round(runif(1, 0.97, 0.999), 3)
      tau1 <- signif(tau1, 3)
    } else {
      u <- runif(1)
      tau0 <- if (known_case) 0.235 * sigma else if (u < 0.25) 0 else if (u < 0.65)
        sigma * round(runif(1, 0.05, 0.3), 3) else sigma * round(runif(1, 0.3, 1.5), 2)
      rho <- 0
      if (runif(1) < 0.3 && !known_case) dropout <- "random"
    }
    if (kind == "dropout_monotone") dropout <- "monotone"
    if (kind == "dropout_random") dropout <- "random"
    subj <- sprintf("s%02d", seq_len(n))
    gi <- if (G > 1) sample(rep_len(seq_len(G), n)) else rep(1L, n)   # balanced group sizes
    grp <- if (G > 1) LETTERS[gi] else rep("", n)
    # fixed effects: per unit of the mean visit gap s (ages: per year)
    b0 <- round(runif(1, 15, 35), 1)
    b1 <- round(runif(1, -2, 0.5), 2) / s
    bg <- c(0, round(runif(G - 1, -3, 3), 2))
    bgt <- c(0, round(runif(G - 1, -1, 1), 2)) / s
    re0 <- rnorm(n); re1 <- rnorm(n)
    u0 <- tau0 * re0
    u1 <- tau1 * (rho * re0 + sqrt(1 - rho^2) * re1)
    a0 <- if (scheme == "age") round(runif(n, 20, 70 - (k - 1)), 1) else rep(0, n)
    rows <- vector("list", n)
    for (i in seq_len(n)) {
      keep <- seq_len(k)
      if (dropout == "monotone" && runif(1) < 0.7) keep <- seq_len(sample(2:k, 1))
      if (dropout == "random") keep <- which(runif(k) < 0.75)
      ti <- if (scheme == "age") a0[i] + tt[keep] else tt[keep]
      tc <- if (scheme == "age") ti - 45 else ti       # ages: generated around age 45
      mu <- b0 + bg[gi[i]] + (b1 + bgt[gi[i]]) * tc
      yi <- mu + u0[i] + u1[i] * tc + sigma * rnorm(length(keep))
      rows[[i]] <- data.frame(subject = rep(subj[i], length(keep)), group = rep(grp[i], length(keep)),
                              time = ti, y = round(yi, 3), stringsAsFactors = FALSE)
    }
    d <- do.call(rbind, rows)
    if (valid(d, G, slope)) break
  }
  if (!valid(d, G, slope)) stop("could not simulate a valid design ", num)
  id <- sprintf("gen_%03d", num)
  emm_times <- if (G == 1) NULL else if (scheme == "age") c(round(min(d$time)), round(max(d$time)))
               else c(min(tt), max(tt))
  list(design = id, kind = kind, formula = formula,
       random = if (slope) "time | subject" else "1 | subject", reml = reml, data = d,
       emm_times = emm_times, time_scheme = scheme,
       generator = sprintf("n=%d;k=%d;G=%d;time=%s;dropout=%s;sigma=%s;tau0=%s;tau1=%s;rho=%s",
                           n, k, G, scheme, dropout, sigma, signif(tau0, 4), signif(tau1, 4), rho))
}

kinds <- c(rep(names(rand_slope_kinds), rand_slope_kinds), rep(names(intercept_kinds), intercept_kinds))
slope_of <- c(rep(TRUE, sum(rand_slope_kinds)), rep(FALSE, sum(intercept_kinds)))
designs <- lapply(seq_along(kinds), function(i) simulate(i, kinds[i], slope_of[i]))
if (only_n > 0) designs <- designs[unique(round(seq(1, length(designs), length.out = only_n)))]

# ---- named datasets ---------------------------------------------------------------------------
named <- function(id, data, formula, random, reml, emm_times, note) {
  data$subject <- as.character(data$subject)
  data$group <- as.character(data$group)
  list(design = id, kind = "named", formula = formula, random = random, reml = reml,
       data = data[, c("subject", "group", "time", "y")], emm_times = emm_times,
       time_scheme = "dataset", generator = note)
}
cw <- datasets::ChickWeight
cw <- data.frame(subject = as.character(cw$Chick), group = as.character(cw$Diet), time = cw$Time,
                 y = cw$weight)
px <- nlme::Pixel
px <- data.frame(subject = as.character(px$Dog), group = as.character(px$Side), time = px$day,
                 y = px$pixel)
bw <- nlme::BodyWeight
bw <- data.frame(subject = as.character(bw$Rat), group = as.character(bw$Diet), time = bw$Time,
                 y = bw$weight)
ot <- nlme::Orthodont
stopifnot(identical(levels(ot$Sex), c("Male", "Female")))
ot <- data.frame(subject = as.character(ot$Subject),
                 group = c(Male = "1_Male", Female = "2_Female")[as.character(ot$Sex)],
                 time = ot$age, y = ot$distance)
ss <- lme4::sleepstudy
ss <- data.frame(subject = as.character(ss$Subject), group = "", time = ss$Days, y = ss$Reaction)
for (reml in c(TRUE, FALSE)) {
  sfx <- if (reml) "reml" else "ml"
  designs[[length(designs) + 1L]] <- named(paste0("chickweight_rs_", sfx), cw, "y ~ time * group",
    "time | subject", reml, c(0, 21), "datasets::ChickWeight: weight ~ Time * Diet + (Time | Chick)")
  designs[[length(designs) + 1L]] <- named(paste0("pixel_rs_", sfx), px, "y ~ time + group",
    "time | subject", reml, c(0, 21), "nlme::Pixel: pixel ~ day + Side + (day | Dog)")
  designs[[length(designs) + 1L]] <- named(paste0("bodyweight_rs_", sfx), bw, "y ~ time * group",
    "time | subject", reml, c(1, 64), "nlme::BodyWeight: weight ~ Time * Diet + (Time | Rat)")
  designs[[length(designs) + 1L]] <- named(paste0("orthodont_rs_", sfx), ot, "y ~ time * group",
    "time | subject", reml, c(8, 14),
    "nlme::Orthodont: distance ~ age * Sex + (age | Subject); Sex Male -> 1_Male, Female -> 2_Female")
  designs[[length(designs) + 1L]] <- named(paste0("sleepstudy_rs_", sfx), ss, "y ~ time",
    "time | subject", reml, NULL, "lme4::sleepstudy: Reaction ~ Days + (Days | Subject)")
}

# ---- fitting ----------------------------------------------------------------------------------
# (a) bobyqa rhoend 1e-12, (b) Nelder_Mead with tight tolerances, (c) bobyqa (a) restarted from
# the theta of the better of (a) and (b); keep the highest logLik (ties within TIE: c, a, b).
# All three through lmerTest::lmer. (d) lme4's default control, only for lme4_singular_default
# and loglik_default.
quiet <- function(expr) {
  w <- character(0)
  val <- withCallingHandlers(expr, warning = function(cond) {
    w <<- c(w, conditionMessage(cond)); invokeRestart("muffleWarning")
  }, message = function(cond) invokeRestart("muffleMessage"))
  list(value = val, warnings = w)
}
clean <- function(w) gsub("[\r\n\t\"]+", " ", paste(unique(w), collapse = " | "))

fit_design <- function(des) {
  d <- des$data
  if (des$formula == "y ~ time") d$group <- "" else {
    lv <- sort(unique(d$group))
    d$group <- factor(d$group, levels = lv)
    stopifnot(identical(levels(d$group), sort(levels(d$group))))
  }
  d$subject <- factor(d$subject, levels = sort(unique(d$subject)))
  f <- as.formula(sprintf("%s + (%s)", des$formula, des$random))
  reml <- des$reml
  fa <- tryCatch(quiet(lmerTest::lmer(f, data = d, REML = reml, control = ctl_bobyqa)),
                 error = function(e) NULL)
  fb <- tryCatch(quiet(lmerTest::lmer(f, data = d, REML = reml, control = ctl_nm)),
                 error = function(e) NULL)
  ll <- function(x) if (is.null(x)) -Inf else as.numeric(logLik(x$value))
  if (is.null(fa) && is.null(fb)) stop("both bobyqa and Nelder_Mead failed")
  start_theta <- if (ll(fa) >= ll(fb)) getME(fa$value, "theta") else getME(fb$value, "theta")
  fc <- tryCatch(quiet(lmerTest::lmer(f, data = d, REML = reml, control = ctl_bobyqa,
                                      start = list(theta = start_theta))),
                 error = function(e) NULL)
  fd <- tryCatch(quiet(lme4::lmer(f, data = d, REML = reml, control = lmerControl())),
                 error = function(e) NULL)
  fits <- list(restart = fc, bobyqa = fa, nelder_mead = fb)
  lls <- vapply(fits, ll, 0)
  best <- names(fits)[which(lls >= max(lls) - TIE * abs(max(lls)))[1]]
  m <- fits[[best]]$value
  warn <- fits[[best]]$warnings
  if (!inherits(m, "lmerModLmerTest")) stop("lmerTest could not compute its Hessian (", clean(warn), ")")
  theta_of <- function(x) if (is.null(x)) "" else gv(getME(x$value, "theta"))

  # coefficients
  cs <- quiet(summary(m, ddf = "Satterthwaite")$coefficients)
  warn <- c(warn, cs$warnings); cs <- cs$value
  coef <- data.frame(design = des$design, index = seq_len(nrow(cs)), term = rownames(cs),
                     estimate = g(cs[, "Estimate"]), std_error = g(cs[, "Std. Error"]),
                     df_satterthwaite = g(cs[, "df"]), t_satterthwaite = g(cs[, "t value"]),
                     p_satterthwaite = g(cs[, "Pr(>|t|)"]), std_error_kr = "", df_kr = "", p_kr = "",
                     stringsAsFactors = FALSE)
  stopifnot(identical(rownames(cs), colnames(getME(m, "X"))))
  # lmerTest with an accurate Hessian of the deviance in (theta, sigma). lmerTest takes it from
  # numDeriv::hessian with its default relative step d = 0.1 (Richardson from steps of 10 % of each
  # parameter); on badly scaled designs (uncentred ages, theta[1] ~ 5-20) that Hessian is wrong in
  # the 2nd digit and the Satterthwaite df with it (up to a factor of 7 here), while a smaller
  # relative step (d = 0.01) drowns small parameters (theta ~ 1e-3) in rounding. Here each
  # parameter x_j is scaled by s_j = max(|x_j|, 0.1) and numDeriv differentiates in the scaled
  # coordinates from 0 (steps 1 % of s_j, halved 4 times, Richardson): accurate to ~1e-7 in the df on
  # every design (checked against d = 0.001 / 0.01 runs and against ketastats' analytic-gradient
  # Hessian). Everything else is lmerTest's own code: its pseudo-inverse (eigenvalues > 1e-8) and its
  # Jacobian of vcov(beta) (numDeriv::jacobian, which is accurate here).
  m_fine <- m
  vp <- c(getME(m, "theta"), sigma(m))
  vp_scale <- pmax(abs(vp), 0.1)
  devfun <- update(m, devFunOnly = TRUE)
  h <- numDeriv::hessian(function(u) lmerTest:::devfun_vp(vp + vp_scale * u, devfun = devfun, reml = reml),
                         rep(0, length(vp)), method.args = list(eps = 1e-2, r = 4)) / outer(vp_scale, vp_scale)
  eh <- eigen(h, symmetric = TRUE)
  pos <- eh$values > 1e-8
  m_fine@vcov_varpar <- 2 * eh$vectors[, pos, drop = FALSE] %*% diag(1 / eh$values[pos], nrow = sum(pos)) %*%
    t(eh$vectors[, pos, drop = FALSE])
  cf <- quiet(summary(m_fine, ddf = "Satterthwaite")$coefficients)$value
  coef$df_satterthwaite_fine <- g(cf[, "df"])
  coef$p_satterthwaite_fine <- g(cf[, "Pr(>|t|)"])
  ddfs <- c(satterthwaite = "Satterthwaite")
  emm_df <- c(satterthwaite = "satterthwaite")
  if (reml) {
    ck <- quiet(summary(m, ddf = "Kenward-Roger")$coefficients)
    warn <- c(warn, ck$warnings); ck <- ck$value
    coef$std_error_kr <- g(ck[, "Std. Error"]); coef$df_kr <- g(ck[, "df"])
    coef$p_kr <- g(ck[, "Pr(>|t|)"])
    ddfs <- c(ddfs, kenward_roger = "Kenward-Roger")
    emm_df <- c(emm_df, kenward_roger = "kenward-roger")
  }

  # analysis-level tables
  rows <- list()
  add <- function(kind, term, level, contrast, group, ddf, est, se, df, df_den, stat, p) {
    rows[[length(rows) + 1L]] <<- data.frame(design = des$design, kind = kind, term = term,
      level = level, contrast = contrast, group = group, df_method = ddf, estimate = g(est),
      std_error = g(se), df = g(df), df_denominator = g(df_den), statistic = g(stat),
      p_value = g(p), stringsAsFactors = FALSE)
  }
  models <- list(satterthwaite = m, kenward_roger = m, satterthwaite_fine = m_fine)
  ddfs <- c(ddfs, satterthwaite_fine = "Satterthwaite")
  emm_df <- c(emm_df, satterthwaite_fine = "satterthwaite")
  for (dm in names(ddfs)) {
    a <- quiet(anova(models[[dm]], type = 3, ddf = ddfs[[dm]]))
    warn <- c(warn, a$warnings); a <- a$value
    for (i in seq_len(nrow(a))) add("joint", rownames(a)[i], "", "", "", dm, NA, NA,
                                    a$NumDF[i], a$DenDF[i], a$`F value`[i], a$`Pr(>F)`[i])
  }
  if (des$formula != "y ~ time") {
    for (dm in names(emm_df)) {
      e <- quiet({
        emm <- emmeans(models[[dm]], ~ group | time, at = list(time = des$emm_times), lmer.df = emm_df[[dm]],
                       data = d)
        list(s = as.data.frame(summary(emm)),
             c = as.data.frame(summary(contrast(emm, "trt.vs.ctrl", ref = 1, adjust = "none"))))
      })
      warn <- c(warn, e$warnings)
      s <- e$value$s; cc <- e$value$c
      stopifnot(all(s$time %in% des$emm_times))
      for (i in seq_len(nrow(s))) add("emmean", "group", as.character(s$group[i]), "",
                                      paste0("time=", g(s$time[i])), dm,
                                      s$emmean[i], s$SE[i], s$df[i], NA, NA, NA)
      for (i in seq_len(nrow(cc))) add("contrast", "group", "", as.character(cc$contrast[i]),
                                       paste0("time=", g(cc$time[i])), dm,
                                       cc$estimate[i], cc$SE[i], cc$df[i], NA, cc$t.ratio[i],
                                       cc$p.value[i])
    }
  }
  tests <- do.call(rbind, rows)

  X <- getME(m, "X")
  row <- data.frame(
    design = des$design, kind = des$kind, formula = des$formula, random = des$random,
    reml = if (reml) "TRUE" else "FALSE", n_obs = nrow(d), n_subjects = nlevels(d$subject),
    n_groups_levels = if (is.factor(d$group)) nlevels(d$group) else 0L,
    loglik = g(logLik(m)), criterion = g(if (reml) REMLcrit(m) else deviance(m)),
    sigma = g(sigma(m)), theta = gv(getME(m, "theta")),
    is_singular = if (isSingular(m, tol = 1e-4)) "TRUE" else "FALSE", best = best,
    loglik_bobyqa = g(ll(fa)), loglik_nelder_mead = g(ll(fb)), loglik_restart = g(ll(fc)),
    lme4_singular_default = if (is.null(fd)) "" else if (isSingular(fd$value)) "TRUE" else "FALSE",
    loglik_default = if (is.null(fd)) "" else g(ll(fd)),
    theta_bobyqa = theta_of(fa), theta_nelder_mead = theta_of(fb), theta_restart = theta_of(fc),
    theta_default = theta_of(fd),
    emm_times = if (is.null(des$emm_times)) "" else gv(des$emm_times),
    time_scheme = des$time_scheme, generator = des$generator,
    warnings = clean(warn), stringsAsFactors = FALSE)
  stopifnot(ncol(X) == nrow(coef))
  list(design = row, coef = coef, tests = tests,
       data = data.frame(design = des$design, subject = as.character(d$subject),
                         group = as.character(d$group), time = g(d$time), y = g(d$y),
                         stringsAsFactors = FALSE))
}

cat(sprintf("fitting %d designs on %d cores\n", length(designs), n_cores))
t_fit <- proc.time()[["elapsed"]]
results <- mclapply(designs, function(des) {
  t0 <- proc.time()[["elapsed"]]
  r <- tryCatch(fit_design(des), error = function(e) conditionMessage(e))
  if (is.list(r)) r$seconds <- proc.time()[["elapsed"]] - t0
  r
}, mc.cores = n_cores, mc.preschedule = FALSE)

ok <- vapply(results, is.list, TRUE)
for (i in which(!ok)) cat(sprintf("SKIPPED %s (%s): %s\n", designs[[i]]$design, designs[[i]]$kind,
                                  as.character(results[[i]])))
res <- results[ok]
design_tab <- do.call(rbind, lapply(res, `[[`, "design"))
coef_tab <- do.call(rbind, lapply(res, `[[`, "coef"))
tests_tab <- do.call(rbind, lapply(res, `[[`, "tests"))
data_tab <- do.call(rbind, lapply(res, `[[`, "data"))

# string columns quoted, numbers not
wcsv <- function(x, file, strings) {
  write.csv(x, file, row.names = FALSE, quote = which(names(x) %in% strings), na = "")
}
wcsv(design_tab, file.path(out, "designs.csv"),
     c("design", "kind", "formula", "random", "theta", "best", "theta_bobyqa", "theta_nelder_mead",
       "theta_restart", "theta_default", "emm_times", "time_scheme", "generator", "warnings"))
wcsv(coef_tab, file.path(out, "coefficients.csv"), c("design", "term"))
wcsv(tests_tab, file.path(out, "tests.csv"),
     c("design", "kind", "term", "level", "contrast", "group", "df_method"))
gz <- gzfile(file.path(out, "data.csv.gz"), "w")
wcsv(data_tab, gz, c("design", "subject", "group"))
close(gz)
writeLines(c(R.version.string, sapply(c("lme4", "lmerTest", "pbkrtest", "emmeans", "nlme", "Matrix", "minqa"),
             function(p) paste(p, as.character(packageVersion(p))))), file.path(out, "versions.txt"))

# ---- summary ----------------------------------------------------------------------------------
num <- function(x) suppressWarnings(as.numeric(x))
dt <- design_tab
cat("\ndesigns per kind (singular = isSingular(tol = 1e-4) of the best fit):\n")
print(do.call(rbind, lapply(split(dt, factor(dt$kind, levels = unique(dt$kind))), function(s)
  data.frame(n = nrow(s), singular = sum(s$is_singular == "TRUE"), reml = sum(s$reml == "TRUE"),
             default_singular = sum(s$lme4_singular_default == "TRUE")))))
cat(sprintf("\ntotal %d designs fitted, %d skipped, %d singular\n", nrow(dt), sum(!ok),
            sum(dt$is_singular == "TRUE")))
cat("best fit method:\n"); print(table(dt$best))
lmat <- cbind(a = num(dt$loglik_bobyqa), b = num(dt$loglik_nelder_mead), c = num(dt$loglik_restart))
lmat[!is.finite(lmat)] <- NA
spread <- apply(lmat, 1, function(v) max(v, na.rm = TRUE) - min(v, na.rm = TRUE))
best_ll <- num(dt$loglik)
gap <- best_ll - lmat
cat(sprintf("largest logLik spread between the three fits: %.3g (%s)\n", max(spread),
            dt$design[which.max(spread)]))
for (nm in colnames(gap)) cat(sprintf("  %s: below best by > 1e-6 in %d designs, max %.3g\n", nm,
                                      sum(gap[, nm] > 1e-6, na.rm = TRUE), max(gap[, nm], na.rm = TRUE)))
dgap <- best_ll - num(dt$loglik_default)
cat(sprintf("lme4 default control below best by > 1e-6 in %d designs, > 1e-3 in %d, max %.3g (%s)\n",
            sum(dgap > 1e-6, na.rm = TRUE), sum(dgap > 1e-3, na.rm = TRUE), max(dgap, na.rm = TRUE),
            dt$design[which.max(dgap)]))
# singular status (any diagonal element of Lambda < 1e-4, as isSingular) of each fit's theta
sing <- function(txt, random) vapply(seq_along(txt), function(i) {
  if (txt[i] == "") return(NA)
  th <- num(strsplit(txt[i], ";")[[1]])
  any(th[if (random[i] == "1 | subject") 1 else c(1, 3)] < 1e-4)
}, NA)
smat <- cbind(best = dt$is_singular == "TRUE", a = sing(dt$theta_bobyqa, dt$random),
              b = sing(dt$theta_nelder_mead, dt$random), c = sing(dt$theta_restart, dt$random))
differ <- apply(smat, 1, function(v) length(unique(v[!is.na(v)])) > 1)
cat(sprintf("singular status differs between the three fits in %d designs: %s\n", sum(differ),
            paste(dt$design[differ], collapse = " ")))
dd <- dt$lme4_singular_default != "" & dt$lme4_singular_default != dt$is_singular
cat(sprintf("lme4 default fit's isSingular differs from the best fit's in %d designs: %s\n", sum(dd),
            paste(dt$design[dd], collapse = " ")))
cat("top 10 designs by spread between the three fits:\n")
o <- order(-spread)[1:min(10, nrow(dt))]
print(data.frame(design = dt$design[o], kind = dt$kind[o], spread = signif(spread[o], 3),
                 best = dt$best[o], singular = dt$is_singular[o]), row.names = FALSE)
secs <- vapply(res, `[[`, 0, "seconds")
cat(sprintf("slowest design %.1f s (%s); fitting wall time %.1f s\n", max(secs),
            dt$design[which.max(secs)], proc.time()[["elapsed"]] - t_fit))
cw <- dt[dt$design %in% c("chickweight_rs_reml", "pixel_rs_reml"), c("design", "loglik", "theta")]
print(cw, row.names = FALSE)
cat(sprintf("run time %.1f s\n", proc.time()[["elapsed"]] - t_start))
