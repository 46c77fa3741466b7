# Reference values for toolkit.models (GLMs, GLMMs, marginal means, zero models).
# Run from the project root:  Rscript tests/reference/models/glm_reference.R
# Needs TOOLKIT_DATA_MIRROR (or /work/shared/datasets) for the two real datasets.
suppressPackageStartupMessages({library(MASS); library(glmmTMB); library(emmeans); library(pscl)})
mirror <- Sys.getenv("TOOLKIT_DATA_MIRROR", "/work/shared/datasets")
out <- "tests/reference/models"
w <- function(x, name) write.csv(x, file.path(out, name), row.names = FALSE)
coef_table <- function(m) {
  s <- summary(m)$coefficients
  if (is.list(s) && !is.matrix(s)) s <- s$cond
  data.frame(term = rownames(s), estimate = format(s[, 1], digits = 17), std_error = format(s[, 2], digits = 17),
             statistic = format(s[, 3], digits = 17), p_value = format(s[, 4], digits = 17))
}
emm_table <- function(e) {
  d <- as.data.frame(summary(e))
  for (k in seq_along(d)) if (is.numeric(d[[k]])) d[[k]] <- format(d[[k]], digits = 17)
  d
}

## 1. UCI Facebook metrics: comments with reach as exposure ----------------------------------
fb <- read.csv(file.path(mirror, "uci_facebook_metrics", "dataset_Facebook.csv"), sep = ";", check.names = FALSE)
fb <- data.frame(comments = fb[["comment"]], reach = fb[["Lifetime Post Total Reach"]], Type = factor(fb[["Type"]]))
stopifnot(all(fb$reach > 0), !anyNA(fb))
m_nb <- glm.nb(comments ~ Type + offset(log(reach)), data = fb)
m_nb0 <- glm.nb(comments ~ 1 + offset(log(reach)), data = fb)
m_po <- glm(comments ~ Type + offset(log(reach)), family = poisson, data = fb)
m_po0 <- glm(comments ~ 1 + offset(log(reach)), family = poisson, data = fb)
w(coef_table(m_nb), "fb_glmnb_coef.csv")
w(coef_table(m_po), "fb_poisson_coef.csv")
w(data.frame(model = c("glm.nb", "poisson"), n = c(nobs(m_nb), nobs(m_po)),
             loglik = format(c(as.numeric(logLik(m_nb)), as.numeric(logLik(m_po))), digits = 17),
             aic = format(c(AIC(m_nb), AIC(m_po)), digits = 17),
             bic = format(c(BIC(m_nb), BIC(m_po)), digits = 17),
             theta = format(c(m_nb$theta, NA), digits = 17), se_theta = format(c(m_nb$SE.theta, NA), digits = 17),
             lrt_statistic = format(c(2 * (logLik(m_nb) - logLik(m_nb0)), 2 * (logLik(m_po) - logLik(m_po0))), digits = 17),
             lrt_df = c(3, 3)), "fb_glm_fit.csv")
e_nb <- emmeans(m_nb, "Type", offset = log(1000), type = "response")
w(emm_table(e_nb), "fb_glmnb_emmeans.csv")
w(emm_table(pairs(e_nb, adjust = "holm")), "fb_glmnb_pairs_holm.csv")
e_po <- emmeans(m_po, "Type", offset = log(1000), type = "response")
w(emm_table(e_po), "fb_poisson_emmeans.csv")

# diagnostics: AER::dispersiontest (Cameron & Trivedi 1990) and expected count frequencies
suppressPackageStartupMessages(library(AER))
dt1 <- dispersiontest(m_po, trafo = 1); dt2 <- dispersiontest(m_po, trafo = 2)
w(data.frame(trafo = c(1, 2), alpha = format(c(dt1$estimate, dt2$estimate), digits = 17),
             statistic = format(c(dt1$statistic, dt2$statistic), digits = 17),
             p_value = format(c(dt1$p.value, dt2$p.value), digits = 17)), "fb_dispersiontest.csv")
w(data.frame(count = 0:5,
             observed = sapply(0:5, function(k) sum(fb$comments == k)),
             expected_negbin = format(sapply(0:5, function(k) sum(dnbinom(k, mu = fitted(m_nb), size = m_nb$theta))), digits = 17),
             expected_poisson = format(sapply(0:5, function(k) sum(dpois(k, fitted(m_po)))), digits = 17)),
  "fb_expected_frequencies.csv")

## 2. UCI Live sellers in Thailand: posts nested in sellers ----------------------------------
th <- read.csv(file.path(mirror, "uci_live_sellers_thailand", "Live_20210128.csv"))
codes <- read.csv(file.path(mirror, "uci_live_sellers_thailand", "seller_codes.csv"))
th <- merge(th[, c("status_id", "status_type", "num_comments")], codes[, c("status_id", "seller")], by = "status_id")
th$status_type <- factor(th$status_type)
tmb <- function(formula, family) glmmTMB(formula, data = th, family = family,
                                         control = glmmTMBControl(optCtrl = list(iter.max = 1e4, eval.max = 1e4)))
g_nb <- tmb(num_comments ~ status_type + (1 | seller), nbinom2)
g_nb0 <- tmb(num_comments ~ 1 + (1 | seller), nbinom2)
g_po <- tmb(num_comments ~ status_type + (1 | seller), poisson)
g_po0 <- tmb(num_comments ~ 1 + (1 | seller), poisson)
w(coef_table(g_nb), "thai_glmmtmb_nbinom2_coef.csv")
w(coef_table(g_po), "thai_glmmtmb_poisson_coef.csv")
sd_re <- function(m) attr(VarCorr(m)$cond$seller, "stddev")[[1]]
w(data.frame(model = c("nbinom2", "poisson"), n = nrow(th), n_groups = length(unique(th$seller)),
             loglik = format(c(as.numeric(logLik(g_nb)), as.numeric(logLik(g_po))), digits = 17),
             aic = format(c(AIC(g_nb), AIC(g_po)), digits = 17),
             bic = format(c(BIC(g_nb), BIC(g_po)), digits = 17),
             theta = format(c(sigma(g_nb), NA), digits = 17),
             sd_seller = format(c(sd_re(g_nb), sd_re(g_po)), digits = 17),
             lrt_statistic = format(c(2 * (logLik(g_nb) - logLik(g_nb0)), 2 * (logLik(g_po) - logLik(g_po0))), digits = 17),
             lrt_df = c(3, 3)), "thai_glmmtmb_fit.csv")
w(emm_table(emmeans(g_nb, "status_type", type = "response")), "thai_glmmtmb_nbinom2_emmeans.csv")
w(emm_table(pairs(emmeans(g_nb, "status_type", type = "response"), adjust = "holm")), "thai_glmmtmb_nbinom2_pairs_holm.csv")

## 2b. GLMs on the Thai sellers with cluster-robust (by seller) covariance: sandwich::vcovCL, HC1 ----------
suppressPackageStartupMessages(library(sandwich))
cl_table <- function(m) {
  V <- vcovCL(m, cluster = ~seller, type = "HC1")
  data.frame(term = names(coef(m)), estimate = format(coef(m), digits = 17), std_error = format(sqrt(diag(V)), digits = 17))
}
w(cl_table(glm(num_comments ~ status_type, family = poisson, data = th)), "thai_poisson_cluster_coef.csv")
w(cl_table(glm.nb(num_comments ~ status_type, data = th)), "thai_glmnb_cluster_coef.csv")

## 3. Zero models on the Facebook comments (pscl, dist = "negbin", intercept-only zero part) --------
zi <- zeroinfl(comments ~ Type + offset(log(reach)) | 1, data = fb, dist = "negbin")
hu <- hurdle(comments ~ Type + offset(log(reach)) | 1, data = fb, dist = "negbin")
zt <- function(m, name) {
  s <- summary(m)$coefficients
  d <- rbind(data.frame(part = "count", term = rownames(s$count), s$count, check.names = FALSE),
             data.frame(part = "zero", term = rownames(s$zero), s$zero, check.names = FALSE))
  names(d)[3:6] <- c("estimate", "std_error", "statistic", "p_value")
  for (k in 3:6) d[[k]] <- format(d[[k]], digits = 17)
  w(d, name)
}
zt(zi, "fb_zeroinfl_negbin_coef.csv")
zt(hu, "fb_hurdle_negbin_coef.csv")
w(data.frame(model = c("zeroinfl", "hurdle"), loglik = format(c(as.numeric(logLik(zi)), as.numeric(logLik(hu))), digits = 17),
             theta = format(c(zi$theta, hu$theta[["count"]]), digits = 17)), "fb_zero_models_fit.csv")

# zero models on a simulated zero-inflated organisation (SIMULATED data, see README)
zf <- read.csv(file.path(out, "simulated_zero_inflated.csv"))
zf$department <- factor(zf$department, levels = unique(zf$department[order(zf$department_order)]))
zi2 <- zeroinfl(comments ~ department + offset(log(reach)) | 1, data = zf, dist = "negbin")
hu2 <- hurdle(comments ~ department + offset(log(reach)) | 1, data = zf, dist = "negbin")
zt(zi2, "simzi_zeroinfl_negbin_coef.csv")
zt(hu2, "simzi_hurdle_negbin_coef.csv")
zi0 <- zeroinfl(comments ~ 1 + offset(log(reach)) | 1, data = zf, dist = "negbin")
hu0 <- hurdle(comments ~ 1 + offset(log(reach)) | 1, data = zf, dist = "negbin")
w(data.frame(model = c("zeroinfl", "hurdle"), loglik = format(c(as.numeric(logLik(zi2)), as.numeric(logLik(hu2))), digits = 17),
             theta = format(c(zi2$theta, hu2$theta[["count"]]), digits = 17),
             lrt_statistic = format(c(2 * (as.numeric(logLik(zi2)) - as.numeric(logLik(zi0))),
                                      2 * (as.numeric(logLik(hu2)) - as.numeric(logLik(hu0)))), digits = 17)),
  "simzi_zero_models_fit.csv")

## 4. Simulated organisation (if present) ------------------------------------------------------
sim_file <- file.path(out, "simulated_organization.csv")
if (file.exists(sim_file)) {
  sim <- read.csv(sim_file)
  sim$department <- factor(sim$department, levels = unique(sim$department[order(sim$department_order)]))
  s_nb <- glmmTMB(comments ~ department + content_type + offset(log(reach)) + (1 | account), data = sim, family = nbinom2)
  w(coef_table(s_nb), "sim_glmmtmb_nbinom2_coef.csv")
  w(data.frame(loglik = format(as.numeric(logLik(s_nb)), digits = 17), theta = format(sigma(s_nb), digits = 17),
               sd_account = format(attr(VarCorr(s_nb)$cond$account, "stddev")[[1]], digits = 17)),
    "sim_glmmtmb_nbinom2_fit.csv")
  w(emm_table(emmeans(s_nb, "department", offset = log(1000), type = "response")), "sim_glmmtmb_nbinom2_emmeans.csv")
  s_nb0 <- glmmTMB(comments ~ content_type + offset(log(reach)) + (1 | account), data = sim, family = nbinom2)
  w(data.frame(lrt_statistic = format(2 * (as.numeric(logLik(s_nb)) - as.numeric(logLik(s_nb0))), digits = 17), lrt_df = 7),
    "sim_glmmtmb_nbinom2_lrt.csv")
  # adaptive Gauss-Hermite quadrature (lme4::glmer, nAGQ = 9), Poisson, for the n_agq option
  suppressPackageStartupMessages(library(lme4))
  q9 <- glmer(comments ~ department + offset(log(reach)) + (1 | account), data = sim, family = poisson, nAGQ = 9,
              control = glmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  q9s <- summary(q9)$coefficients
  w(data.frame(term = rownames(q9s), estimate = format(q9s[, 1], digits = 17), std_error = format(q9s[, 2], digits = 17)),
    "sim_glmer_poisson_agq9_coef.csv")
  w(data.frame(loglik = format(as.numeric(logLik(q9)), digits = 17),
               sd_account = format(attr(VarCorr(q9)$account, "stddev")[[1]], digits = 17)), "sim_glmer_poisson_agq9_fit.csv")
}
writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
