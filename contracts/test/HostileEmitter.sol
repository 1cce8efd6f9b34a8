// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only contract for the fault suite: emits logs an indexer must survive without being misled.
///         Deployed at its own address it is an unknown contract; its runtime code is also placed, for a few blocks,
///         at the address of a configured token (anvil_setCode), so the same logs come from an address the indexer
///         follows. It has no storage, so the token's state is untouched while it stands in.
contract HostileEmitter {
    /// ERC721 Transfer: the same signature, hence the same topic0, as ERC20 Transfer, but tokenId is indexed, so the
    /// log has 4 topics and no data.
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);

    /// Not an event of the token's ABI (an upgradeable proxy's, say): a topic0 the indexer does not know.
    event Upgraded(address indexed implementation);

    bytes32 private constant TRANSFER_TOPIC = keccak256("Transfer(address,address,uint256)");

    function erc721Transfer(address from, address to, uint256 tokenId) external {
        emit Transfer(from, to, tokenId);
    }

    /// A well-formed ERC20 Transfer (3 topics, 32 bytes of data).
    function erc20Transfer(address from, address to, uint256 value) external {
        bytes32 topic = TRANSFER_TOPIC;
        assembly {
            mstore(0, value)
            log3(0, 32, topic, from, to)
        }
    }

    /// An ERC20-shaped Transfer whose data is 5 bytes instead of a 32-byte uint256.
    function shortDataTransfer(address from, address to) external {
        bytes32 topic = TRANSFER_TOPIC;
        assembly {
            mstore(0, 0x0102030405000000000000000000000000000000000000000000000000000000)
            log3(0, 5, topic, from, to)
        }
    }

    function unknownEvent(address implementation) external {
        emit Upgraded(implementation);
    }

    /// A log with no topics at all (what an anonymous event with no indexed field produces): no topic0 to go by.
    function anonymousLog(uint256 value) external {
        assembly {
            mstore(0, value)
            log0(0, 32)
        }
    }

    /// Emits, then reverts: a reverted transaction's logs are not part of the chain.
    function emitThenRevert(address from, address to, uint256 tokenId) external {
        emit Transfer(from, to, tokenId);
        revert("HostileEmitter: reverted after emitting");
    }
}
