import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    ContributionSubmitted: event("0x9f2f766852d7b6c9a0d2ff92179e5427090415b7fd4555d1614e8a8ac3ec8577", "ContributionSubmitted(uint256,uint256,address,uint8,uint256,bytes32)", {"contributionId": indexed(p.uint256), "modelId": indexed(p.uint256), "contributor": indexed(p.address), "kind": p.uint8, "units": p.uint256, "evidenceHash": p.bytes32}),
    ContributionValidated: event("0xd8a7e1f2a823d041de86362b4d44a1a3791299633cf885bf3bb19789e24f8164", "ContributionValidated(uint256,address,bool,uint16,bytes32)", {"contributionId": indexed(p.uint256), "validator": indexed(p.address), "accepted": p.bool, "score": p.uint16, "reportHash": p.bytes32}),
    OwnershipTransferred: event("0x8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0", "OwnershipTransferred(address,address)", {"previousOwner": indexed(p.address), "newOwner": indexed(p.address)}),
    ValidatorUpdated: event("0x763b63b30e91c843bb39e4379603697003d3b7c1f192619cd782fa33bdc44396", "ValidatorUpdated(address,bool)", {"validator": indexed(p.address), "active": p.bool}),
}

export const functions = {
    MAX_SCORE: viewFun("0x27ff6223", "MAX_SCORE()", {}, p.uint16),
    contributionCount: viewFun("0x5b18056b", "contributionCount()", {}, p.uint256),
    getContribution: viewFun("0xcef42254", "getContribution(uint256)", {"contributionId": p.uint256}, p.struct({"modelId": p.uint256, "contributor": p.address, "kind": p.uint8, "status": p.uint8, "score": p.uint16, "validator": p.address, "units": p.uint256, "evidenceHash": p.bytes32})),
    isValidator: viewFun("0xfacd743b", "isValidator(address)", {"_0": p.address}, p.bool),
    modelRegistry: viewFun("0x2ba36f78", "modelRegistry()", {}, p.address),
    owner: viewFun("0x8da5cb5b", "owner()", {}, p.address),
    renounceOwnership: fun("0x715018a6", "renounceOwnership()", {}, ),
    setValidator: fun("0x4623c91d", "setValidator(address,bool)", {"validator": p.address, "active": p.bool}, ),
    submitContribution: fun("0x74dcba0c", "submitContribution(uint256,uint8,uint256,bytes32)", {"modelId": p.uint256, "kind": p.uint8, "units": p.uint256, "evidenceHash": p.bytes32}, p.uint256),
    transferOwnership: fun("0xf2fde38b", "transferOwnership(address)", {"newOwner": p.address}, ),
    validate: fun("0xdb30c2da", "validate(uint256,bool,uint16,bytes32)", {"contributionId": p.uint256, "accepted": p.bool, "score": p.uint16, "reportHash": p.bytes32}, ),
}

export class Contract extends ContractBase {

    MAX_SCORE() {
        return this.eth_call(functions.MAX_SCORE, {})
    }

    contributionCount() {
        return this.eth_call(functions.contributionCount, {})
    }

    getContribution(contributionId: GetContributionParams["contributionId"]) {
        return this.eth_call(functions.getContribution, {contributionId})
    }

    isValidator(_0: IsValidatorParams["_0"]) {
        return this.eth_call(functions.isValidator, {_0})
    }

    modelRegistry() {
        return this.eth_call(functions.modelRegistry, {})
    }

    owner() {
        return this.eth_call(functions.owner, {})
    }
}

/// Event types
export type ContributionSubmittedEventArgs = EParams<typeof events.ContributionSubmitted>
export type ContributionValidatedEventArgs = EParams<typeof events.ContributionValidated>
export type OwnershipTransferredEventArgs = EParams<typeof events.OwnershipTransferred>
export type ValidatorUpdatedEventArgs = EParams<typeof events.ValidatorUpdated>

/// Function types
export type MAX_SCOREParams = FunctionArguments<typeof functions.MAX_SCORE>
export type MAX_SCOREReturn = FunctionReturn<typeof functions.MAX_SCORE>

export type ContributionCountParams = FunctionArguments<typeof functions.contributionCount>
export type ContributionCountReturn = FunctionReturn<typeof functions.contributionCount>

export type GetContributionParams = FunctionArguments<typeof functions.getContribution>
export type GetContributionReturn = FunctionReturn<typeof functions.getContribution>

export type IsValidatorParams = FunctionArguments<typeof functions.isValidator>
export type IsValidatorReturn = FunctionReturn<typeof functions.isValidator>

export type ModelRegistryParams = FunctionArguments<typeof functions.modelRegistry>
export type ModelRegistryReturn = FunctionReturn<typeof functions.modelRegistry>

export type OwnerParams = FunctionArguments<typeof functions.owner>
export type OwnerReturn = FunctionReturn<typeof functions.owner>

export type RenounceOwnershipParams = FunctionArguments<typeof functions.renounceOwnership>
export type RenounceOwnershipReturn = FunctionReturn<typeof functions.renounceOwnership>

export type SetValidatorParams = FunctionArguments<typeof functions.setValidator>
export type SetValidatorReturn = FunctionReturn<typeof functions.setValidator>

export type SubmitContributionParams = FunctionArguments<typeof functions.submitContribution>
export type SubmitContributionReturn = FunctionReturn<typeof functions.submitContribution>

export type TransferOwnershipParams = FunctionArguments<typeof functions.transferOwnership>
export type TransferOwnershipReturn = FunctionReturn<typeof functions.transferOwnership>

export type ValidateParams = FunctionArguments<typeof functions.validate>
export type ValidateReturn = FunctionReturn<typeof functions.validate>

