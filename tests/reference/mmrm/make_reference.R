# Reference values for the `mmrm` analysis type and the kernel ketastats.stats.mmrm.
# Run from the project root:  Rscript tests/reference/mmrm/make_reference.R
# R: openpharma mmrm 0.3.18 (built from its GitHub source; TMB 1.9.2 from Debian, which mmrm warns
# is older than 1.9.15), emmeans; type-III tests by mmrm's own Anova method. Every fit uses optimizer = "nlminb" (Newton with TMB's exact
# Hessian): mmrm's default L-BFGS-B stops ~1e-5 short of the optimum on fev_data (log-likelihood
# 9e-6 lower), nlminb reaches the optimum that ketastats' Newton polish reaches.
# Writes: fev_data.csv (mmrm's example data, Apache-2.0), designs.csv.gz (generated data, all designs),
# reference.csv.gz (one row per value), cases.csv (one row per fitted case: design, structure, ...).
suppressMessages({library(mmrm); library(emmeans)})
here <- "tests/reference/mmrm"

fev <- mmrm::fev_data
write.csv(fev, file.path(here, "fev_data.csv"), row.names = FALSE, na = "")

# --- generated trials: 2 arms, 3-6 visits, MAR dropout (more in placebo, driven by the last score),
# unbalanced arms, small n, strongly correlated (near-singular) visits in some designs.
gen_design <- function(id) {
  set.seed(1000 + id)
  m <- sample(3:6, 1)
  n <- sample(c(20, 30, 45, 70, 120), 1, prob = c(1, 2, 2, 2, 1))
  p_trt <- sample(c(0.5, 0.4, 0.65), 1)
  arm <- ifelse(runif(n) < p_trt, "TRT", "PBO")
  if (length(unique(arm)) < 2) arm[1:2] <- c("PBO", "TRT")
  base <- round(rnorm(n, 30, 5), 1)
  rho <- sample(c(0.3, 0.6, 0.9, 0.97), 1)          # 0.97: near-singular visit correlation
  sds <- seq(4, 4 + runif(1, 0, 5), length.out = m)
  R <- rho^abs(outer(1:m, 1:m, "-"))
  S <- diag(sds) %*% R %*% diag(sds)
  e <- matrix(rnorm(n * m), n, m) %*% chol(S)
  eff <- runif(1, 0, 6)
  y <- sapply(1:m, function(j) -1.5 * j - eff * (arm == "TRT") * j / m + 0.3 * (base - 30)) + e
  y <- round(y, 2)
  miss <- matrix(FALSE, n, m)
  for (i in 1:n) for (j in 2:m) {
    if (miss[i, j - 1]) { miss[i, j] <- TRUE; next }
    lp <- -3 + 0.15 * (y[i, j - 1] + 1.5 * (j - 1)) + 0.6 * (arm[i] == "PBO")
    if (runif(1) < plogis(lp)) miss[i, j:m] <- TRUE
  }
  miss[cbind(1:n, sample(1:m, n, TRUE))] <- miss[cbind(1:n, sample(1:m, n, TRUE))] | (runif(n) < 0.04)
  y[miss] <- NA
  d <- data.frame(design = id, USUBJID = sprintf("S%03d", rep(1:n, each = m)),
                  ARMCD = rep(arm, each = m), BASE = rep(base, each = m),
                  AVISIT = sprintf("V%d", rep(1:m, n)), Y = as.vector(t(y)))
  d
}

n_designs <- 120
designs <- do.call(rbind, lapply(1:n_designs, gen_design))
write.csv(designs, gzfile(file.path(here, "designs.csv.gz")), row.names = FALSE, na = "")

structures <- c("us", "cs", "csh", "ar1", "ar1h", "toep", "toeph", "ad", "adh")
combos <- list(c("Kenward-Roger", "Kenward-Roger-Linear"), c("Kenward-Roger", "Kenward-Roger"),
               c("Satterthwaite", "Asymptotic"), c("Residual", "Asymptotic"),
               c("Between-Within", "Asymptotic"), c("Residual", "Empirical"))

out <- list(); cases <- list()
add <- function(case, kind, term, level = "", group = "", estimate = NA, std_error = NA, df = NA,
                df_denominator = NA, statistic = NA, p_value = NA) {
  out[[length(out) + 1]] <<- data.frame(case = case, kind = kind, term = term, level = level, group = group,
    estimate = estimate, std_error = std_error, df = df, df_denominator = df_denominator,
    statistic = statistic, p_value = p_value)
}

record <- function(case, data, formula_text, structure, reml, method, vcov, emm_spec, emm_by) {
  f <- as.formula(sprintf("%s + %s(AVISIT | USUBJID)", formula_text, structure))
  fit <- tryCatch(suppressWarnings(mmrm(f, data = data, reml = reml, method = method, vcov = vcov,
                                        optimizer = "nlminb")), error = function(e) NULL)
  ok <- !is.null(fit) && isTRUE(component(fit, "convergence") == 0)
  cases[[length(cases) + 1]] <<- data.frame(case = case, structure = structure, reml = reml,
    method = method, vcov = vcov, formula = formula_text, converged = ok)
  if (!ok) return(invisible(NULL))
  co <- summary(fit)$coefficients
  ci <- confint(fit)
  for (i in seq_len(nrow(co))) add(case, "fixed", rownames(co)[i], estimate = co[i, 1], std_error = co[i, 2],
                                   df = co[i, 3], statistic = co[i, 4], p_value = co[i, 5])
  add(case, "loglik", "logLik", estimate = as.numeric(logLik(fit)))
  add(case, "aic", "AIC", estimate = AIC(fit)); add(case, "bic", "BIC", estimate = BIC(fit))
  th <- component(fit, "theta_est"); tv <- component(fit, "theta_vcov")
  for (k in seq_along(th)) add(case, "theta", sprintf("theta_%d", k), estimate = th[k], std_error = sqrt(tv[k, k]))
  S <- VarCorr(fit)
  for (i in seq_len(nrow(S))) for (j in i:ncol(S)) add(case, "sigma", sprintf("%d.%d", i, j), estimate = S[i, j])
  # car 3.1.1 is too old for mmrm to register its Anova method, so it is called directly
  an <- tryCatch(mmrm:::Anova.mmrm(fit, type = "III"), error = function(e) NULL)
  if (!is.null(an)) for (i in seq_len(nrow(an))) add(case, "joint", rownames(an)[i], df = an[i, "Df"],
      df_denominator = an[i, "Res.Df"], statistic = an[i, "F"], p_value = an[i, "Pr(>F)"])
  if (!is.null(emm_spec)) {
    em <- emmeans(fit, as.formula(sprintf("~ %s | %s", emm_spec, emm_by)))
    es <- as.data.frame(summary(em))
    for (i in seq_len(nrow(es))) add(case, "emmean", emm_spec, level = as.character(es[i, emm_spec]),
        group = as.character(es[i, emm_by]), estimate = es$emmean[i], std_error = es$SE[i], df = es$df[i])
    cs <- as.data.frame(summary(contrast(em, "trt.vs.ctrl"), infer = TRUE))
    for (i in seq_len(nrow(cs))) add(case, "contrast", emm_spec, level = as.character(cs$contrast[i]),
        group = as.character(cs[i, emm_by]), estimate = cs$estimate[i], std_error = cs$SE[i], df = cs$df[i],
        statistic = cs$t.ratio[i], p_value = cs$p.value[i])
  }
}

# fev_data: FEV1 ~ ARMCD (SAS's design/ddfm_covtype files) and the full model of mmrm's vignette,
# every structure; KR (both), Satterthwaite, residual, between-within, empirical.
fev_simple <- "FEV1 ~ ARMCD"
fev_full <- "FEV1 ~ RACE + SEX + ARMCD * AVISIT"
for (s in structures) {
  for (cb in combos) {
    record(sprintf("fev|simple|%s|reml|%s|%s", s, cb[1], cb[2]), fev, fev_simple, s, TRUE, cb[1], cb[2], NULL, NULL)
    record(sprintf("fev|full|%s|reml|%s|%s", s, cb[1], cb[2]), fev, fev_full, s, TRUE, cb[1], cb[2], "ARMCD", "AVISIT")
  }
  record(sprintf("fev|full|%s|ml|Satterthwaite|Asymptotic", s), fev, fev_full, s, FALSE, "Satterthwaite",
         "Asymptotic", "ARMCD", "AVISIT")
}

# generated designs: the primary-analysis model; us with every df / vcov choice, one other structure
# (rotating through the list) with KR-linear and Satterthwaite, ML with Satterthwaite.
gen_formula <- "Y ~ BASE + ARMCD * AVISIT + BASE:AVISIT"
for (id in 1:n_designs) {
  d <- designs[designs$design == id, ]
  d$USUBJID <- factor(d$USUBJID); d$AVISIT <- factor(d$AVISIT); d$ARMCD <- factor(d$ARMCD, levels = c("PBO", "TRT"))
  for (cb in combos) record(sprintf("gen%d|primary|us|reml|%s|%s", id, cb[1], cb[2]), d, gen_formula, "us",
                            TRUE, cb[1], cb[2], "ARMCD", "AVISIT")
  s <- structures[(id %% 8) + 2]
  record(sprintf("gen%d|primary|%s|reml|Kenward-Roger|Kenward-Roger-Linear", id, s), d, gen_formula, s, TRUE,
         "Kenward-Roger", "Kenward-Roger-Linear", "ARMCD", "AVISIT")
  record(sprintf("gen%d|primary|%s|reml|Kenward-Roger|Kenward-Roger", id, s), d, gen_formula, s, TRUE,
         "Kenward-Roger", "Kenward-Roger", "ARMCD", "AVISIT")
  record(sprintf("gen%d|primary|%s|reml|Satterthwaite|Asymptotic", id, s), d, gen_formula, s, TRUE,
         "Satterthwaite", "Asymptotic", "ARMCD", "AVISIT")
  record(sprintf("gen%d|primary|us|ml|Satterthwaite|Asymptotic", id), d, gen_formula, "us", FALSE,
         "Satterthwaite", "Asymptotic", "ARMCD", "AVISIT")
}

write.csv(do.call(rbind, cases), file.path(here, "cases.csv"), row.names = FALSE)
ref <- do.call(rbind, out)
ref[] <- lapply(ref, function(x) if (is.numeric(x)) sprintf("%.15g", x) else x)
write.csv(ref, gzfile(file.path(here, "reference.csv.gz")), row.names = FALSE, na = "")
writeLines(c(R.version.string, paste("mmrm", packageVersion("mmrm")), paste("emmeans", packageVersion("emmeans")),
             paste("car", packageVersion("car")), paste("TMB", packageVersion("TMB"))),
           file.path(here, "versions.txt"))
