import {makeExecutableSchema} from '@graphql-tools/schema'
import type {GraphQLSchema} from 'graphql'
import {accountResolvers} from '../resolvers/accounts'
import {analyticsResolvers} from '../resolvers/analytics'
import {auditResolvers} from '../resolvers/audit'
import {governanceResolvers} from '../resolvers/governance'
import {holderResolvers} from '../resolvers/holders'
import {modelResolvers} from '../resolvers/models'
import {rewardResolvers} from '../resolvers/rewards'
import {statusResolvers} from '../resolvers/status'
import {scalarResolvers} from '../scalars'
import {analyticsSdl} from './analytics'
import {auditSdl} from './audit'
import {commonSdl} from './common'
import {governanceSdl} from './governance'
import {modelsSdl} from './models'
import {rewardsSdl} from './rewards'
import {tokensSdl} from './tokens'

export const typeDefs = [commonSdl, tokensSdl, governanceSdl, modelsSdl, rewardsSdl, analyticsSdl, auditSdl]

/** The executable schema: every domain's SDL with its resolvers (graphql-tools merges the resolver maps). */
export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs,
    resolvers: [
      scalarResolvers,
      statusResolvers,
      accountResolvers,
      holderResolvers,
      governanceResolvers,
      modelResolvers,
      rewardResolvers,
      analyticsResolvers,
      auditResolvers,
    ],
    // A resolver for a field the SDL does not have (a typo) fails at start, not silently at query time.
    resolverValidationOptions: {requireResolversToMatchSchema: 'error'},
  })
}
