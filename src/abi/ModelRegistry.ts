import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    ModelOwnershipTransferred: event("0x6bb8f319b3f749ccf0b0850c3564d63dffac19290083e450476a826a00bbe375", "ModelOwnershipTransferred(uint256,address,address)", {"modelId": indexed(p.uint256), "previousOwner": indexed(p.address), "newOwner": indexed(p.address)}),
    ModelRegistered: event("0xd942d684be94c8a3e39416fe95cb641ed85794834191c1ea248951c91898159d", "ModelRegistered(uint256,address,string,string)", {"modelId": indexed(p.uint256), "owner": indexed(p.address), "name": p.string, "metadataURI": p.string}),
    ModelVersionPublished: event("0x3c6d900440bcaaee635d62ee9dc5255a021b9c0c1800a19ebe481c7ca1c54a76", "ModelVersionPublished(uint256,uint256,address,uint256,bytes32,string)", {"modelId": indexed(p.uint256), "versionId": indexed(p.uint256), "publisher": indexed(p.address), "parentVersionId": p.uint256, "weightsHash": p.bytes32, "metadataURI": p.string}),
}

export const functions = {
    getModel: viewFun("0x6d361694", "getModel(uint256)", {"modelId": p.uint256}, {"owner": p.address, "name": p.string, "metadataURI": p.string, "versionCount": p.uint256}),
    getVersion: viewFun("0x6987b075", "getVersion(uint256,uint256)", {"modelId": p.uint256, "versionId": p.uint256}, {"publisher": p.address, "parentVersionId": p.uint256, "weightsHash": p.bytes32, "metadataURI": p.string}),
    modelCount: viewFun("0xc6a645fe", "modelCount()", {}, p.uint256),
    modelExists: viewFun("0x5f707c0c", "modelExists(uint256)", {"modelId": p.uint256}, p.bool),
    ownerOf: viewFun("0x6352211e", "ownerOf(uint256)", {"modelId": p.uint256}, p.address),
    publishVersion: fun("0x08fa117c", "publishVersion(uint256,uint256,bytes32,string)", {"modelId": p.uint256, "parentVersionId": p.uint256, "weightsHash": p.bytes32, "metadataURI": p.string}, p.uint256),
    registerModel: fun("0x9a4edc5d", "registerModel(string,string)", {"name": p.string, "metadataURI": p.string}, p.uint256),
    transferModelOwnership: fun("0xc704acc2", "transferModelOwnership(uint256,address)", {"modelId": p.uint256, "newOwner": p.address}, ),
}

export class Contract extends ContractBase {

    getModel(modelId: GetModelParams["modelId"]) {
        return this.eth_call(functions.getModel, {modelId})
    }

    getVersion(modelId: GetVersionParams["modelId"], versionId: GetVersionParams["versionId"]) {
        return this.eth_call(functions.getVersion, {modelId, versionId})
    }

    modelCount() {
        return this.eth_call(functions.modelCount, {})
    }

    modelExists(modelId: ModelExistsParams["modelId"]) {
        return this.eth_call(functions.modelExists, {modelId})
    }

    ownerOf(modelId: OwnerOfParams["modelId"]) {
        return this.eth_call(functions.ownerOf, {modelId})
    }
}

/// Event types
export type ModelOwnershipTransferredEventArgs = EParams<typeof events.ModelOwnershipTransferred>
export type ModelRegisteredEventArgs = EParams<typeof events.ModelRegistered>
export type ModelVersionPublishedEventArgs = EParams<typeof events.ModelVersionPublished>

/// Function types
export type GetModelParams = FunctionArguments<typeof functions.getModel>
export type GetModelReturn = FunctionReturn<typeof functions.getModel>

export type GetVersionParams = FunctionArguments<typeof functions.getVersion>
export type GetVersionReturn = FunctionReturn<typeof functions.getVersion>

export type ModelCountParams = FunctionArguments<typeof functions.modelCount>
export type ModelCountReturn = FunctionReturn<typeof functions.modelCount>

export type ModelExistsParams = FunctionArguments<typeof functions.modelExists>
export type ModelExistsReturn = FunctionReturn<typeof functions.modelExists>

export type OwnerOfParams = FunctionArguments<typeof functions.ownerOf>
export type OwnerOfReturn = FunctionReturn<typeof functions.ownerOf>

export type PublishVersionParams = FunctionArguments<typeof functions.publishVersion>
export type PublishVersionReturn = FunctionReturn<typeof functions.publishVersion>

export type RegisterModelParams = FunctionArguments<typeof functions.registerModel>
export type RegisterModelReturn = FunctionReturn<typeof functions.registerModel>

export type TransferModelOwnershipParams = FunctionArguments<typeof functions.transferModelOwnership>
export type TransferModelOwnershipReturn = FunctionReturn<typeof functions.transferModelOwnership>

