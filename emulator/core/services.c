/*
 * services.c — the table of emulated services. See services.h.
 */
#include "core/services.h"

#include "apigateway/service.h"
#include "cognito/wire.h"
#include "dynamodb/wire.h"
#include "lambda/lambda.h"
#include "secretsmanager/wire.h"
#include "sns/wire.h"
#include "stepfunctions/wire.h"

const core_service_def core_services[] = {
    {"dynamodb", ddb_service_start, ddb_service_stop},
    {"secretsmanager", sm_service_start, sm_service_stop},
    {"lambda", lam_service_start, lam_service_stop},
    /* after lambda: lambda subscriptions invoke its functions */
    {"sns", sns_service_start, sns_service_stop},
    {"stepfunctions", sfn_service_start, sfn_service_stop},
    {"apigateway", apigw_service_start, apigw_service_stop},
    /* after apigateway: registers each pool's JWKS with its JWT authorizer */
    {"cognito-idp", cog_service_start, cog_service_stop},
};

const size_t core_services_count = sizeof core_services / sizeof *core_services;
